/// Decoders for ggml's original 32-element blocks (ggml-common.h `block_q4_0` … `block_q8_0`,
/// ggml-quants.c `dequantize_row_q4_0` … `dequantize_row_q8_0`).
///
/// Shared layout: a block starts with an f16 scale `d` (and, for the `_1` variants, an f16 offset
/// `m`). The 4-bit variants pack 32 values into 16 bytes `qs` with element j in the low nibble of
/// `qs[j]` and element j + 16 in the high nibble. The 5-bit variants add a little-endian UInt32 `qh`
/// (before `qs`) whose bit j is bit 4 of element j. The `_0` variants are symmetric (the unsigned
/// code is re-centred by subtracting 8 or 16, then multiplied by `d`); the `_1` variants compute
/// `d × code + m`, rounding the product before the sum as ggml's reference does.

/// Elements per legacy block (ggml `QK4_0` = `QK4_1` = `QK5_0` = `QK5_1` = `QK8_0`).
let legacyBlockElements = 32

/// `block_q4_0` (18 bytes): f16 d, then qs[16]. value = d × (nibble − 8).
@inline(__always)
func dequantizeQ4_0Block(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
    let d = block.halfFloat(at: 0)
    let qs = block + 2
    for j in 0..<16 {
        let byte = qs.quantByte(at: j)
        y[j] = d * Float(Int32(byte & 0x0f) - 8)
        y[j + 16] = d * Float(Int32(byte >> 4) - 8)
    }
}

/// `block_q4_1` (20 bytes): f16 d, f16 m, then qs[16]. value = d × nibble + m.
@inline(__always)
func dequantizeQ4_1Block(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
    let d = block.halfFloat(at: 0)
    let m = block.halfFloat(at: 2)
    let qs = block + 4
    for j in 0..<16 {
        let byte = qs.quantByte(at: j)
        y[j] = d * Float(byte & 0x0f) + m
        y[j + 16] = d * Float(byte >> 4) + m
    }
}

/// `block_q5_0` (22 bytes): f16 d, UInt32 qh, then qs[16]. value = d × (5-bit code − 16).
@inline(__always)
func dequantizeQ5_0Block(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
    let d = block.halfFloat(at: 0)
    let qh = block.littleEndianUInt32(at: 2)
    let qs = block + 6
    for j in 0..<16 {
        let byte = UInt32(qs.quantByte(at: j))
        let low = (byte & 0x0f) | (((qh >> j) & 1) << 4)
        let high = (byte >> 4) | (((qh >> (j + 16)) & 1) << 4)
        y[j] = d * Float(Int32(low) - 16)
        y[j + 16] = d * Float(Int32(high) - 16)
    }
}

/// `block_q5_1` (24 bytes): f16 d, f16 m, UInt32 qh, then qs[16]. value = d × 5-bit code + m.
@inline(__always)
func dequantizeQ5_1Block(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
    let d = block.halfFloat(at: 0)
    let m = block.halfFloat(at: 2)
    let qh = block.littleEndianUInt32(at: 4)
    let qs = block + 8
    for j in 0..<16 {
        let byte = UInt32(qs.quantByte(at: j))
        let low = (byte & 0x0f) | (((qh >> j) & 1) << 4)
        let high = (byte >> 4) | (((qh >> (j + 16)) & 1) << 4)
        y[j] = d * Float(low) + m
        y[j + 16] = d * Float(high) + m
    }
}

/// `block_q8_0` (34 bytes): f16 d, then qs[32] as Int8. value = d × qs[j].
@inline(__always)
func dequantizeQ8_0Block(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
    let d = block.halfFloat(at: 0)
    let qs = block + 2
    for j in 0..<32 {
        y[j] = d * Float(Int8(bitPattern: qs.quantByte(at: j)))
    }
}
