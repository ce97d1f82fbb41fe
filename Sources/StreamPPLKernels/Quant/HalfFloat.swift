/// Exact conversions from the 16-bit float formats stored in GGUF files to Float32, and the
/// unaligned little-endian loads the block decoders share. Every half-precision value is exactly
/// representable as a Float, so these conversions never round.

/// Converts IEEE 754 binary16 bits to Float, exactly: subnormals are renormalized, ±0 keeps its
/// sign, infinities stay infinite and NaNs keep their payload (shifted into the top of the mantissa).
@inline(__always)
func floatFromHalfBits(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let magnitude = UInt32(bits & 0x7fff)
    let exponent = magnitude & 0x7c00
    let magnitudeBits: UInt32
    if exponent == 0x7c00 {
        // Infinity or NaN: all-ones exponent, 10-bit payload becomes the top of the 23-bit mantissa.
        magnitudeBits = 0x7f80_0000 | ((magnitude & 0x03ff) << 13)
    } else if exponent == 0 {
        // Zero or subnormal: the value is mantissa × 2⁻²⁴; the mantissa (< 1024) and the product
        // (≥ 2⁻²⁴, a normal Float) are both exact.
        magnitudeBits = (Float(magnitude) * 0x1p-24).bitPattern
    } else {
        // Normal: same mantissa, exponent rebiased from 15 to 127.
        magnitudeBits = (magnitude << 13) + ((127 - 15) << 23)
    }
    return Float(bitPattern: sign | magnitudeBits)
}

/// Converts bfloat16 bits to Float: bfloat16 is the top half of a Float32, so this is a shift.
@inline(__always)
func floatFromBFloat16Bits(_ bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
}

extension UnsafeRawPointer {
    /// The byte at `offset`; one-byte loads are always aligned.
    @inline(__always)
    func quantByte(at offset: Int) -> UInt8 {
        load(fromByteOffset: offset, as: UInt8.self)
    }

    /// The little-endian binary16 at `offset` as a Float. Block fields sit at odd multiples of 2
    /// bytes after 18-, 22- or 34-byte blocks, so the load must tolerate misalignment.
    @inline(__always)
    func halfFloat(at offset: Int) -> Float {
        floatFromHalfBits(UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// The little-endian UInt32 at `offset`, which need not be aligned.
    @inline(__always)
    func littleEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}
