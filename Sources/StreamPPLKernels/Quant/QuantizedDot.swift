/// Dot products of one row of GGUF blocks with a Float32 activation vector, dequantizing on the fly.
///
/// The activations stay Float32: each kernel decodes the block's integer codes into Float lanes and
/// multiplies them by `x`, so a result differs from `dequantize` followed by a Float dot product only
/// by summation order and by the per-block factoring below.
///
/// Vectorization notes (swiftc 6.3): kernels work on `SIMD8` lanes (one AVX2 register). The stdlib's
/// generic SIMD conversions are not reliably inlined, so lane widening and int→float conversion go through
/// the always-inlined lane loops below, which LLVM turns into `vpmovzxbd`/`vpmovsxbd` + `vcvtdq2ps`.
/// Products are written `a * b + c` (`madd`), fused only when the build defines `STREAMPPL_X86_64_V3`:
/// without FMA in the target, `llvm.fma` on vectors becomes per-lane libcalls.
///
/// Per-block algebra: where a block's weights are `d·q + m` (Q5_1) or `(d·s)·q − (dmin·m)`
/// (Q4_K, Q5_K), Σ w·x = d·Σ q·x + m·Σ x, and the sub-block sums Σ x (`sums`, one Float per 32 inputs,
/// see `QuantizedDot.blockSums`) are computed once per activation vector and shared by every row.
/// Q4_1, which holds nearly all of SmolLM2's weights, multiplies the exact dequantized weights instead
/// (see `q4_1`).
enum QuantizedDot {
    typealias F8 = SIMD8<Float>
    typealias I8 = SIMD8<Int32>

    /// acc += a·b, fused when the build targets FMA (`-D STREAMPPL_X86_64_V3`, see `blockScale`).
    @inline(__always)
    static func madd(_ acc: inout F8, _ a: F8, _ b: F8) {
        #if STREAMPPL_X86_64_V3
        acc = acc.addingProduct(a, b)
        #else
        acc += a * b
        #endif
    }

    @inline(__always)
    static func load8(_ x: UnsafePointer<Float>, _ offset: Int) -> F8 {
        UnsafeRawPointer(x + offset).loadUnaligned(as: F8.self)
    }

    // The stdlib's generic SIMD conversions (`SIMD8<Int32>(truncatingIfNeeded:)`, `SIMD8<Float>(_:)`) are
    // specialized but not always inlined (the inliner gives up in larger kernels, leaving a call per
    // conversion); these lane loops are always inlined and become `vpmovzxbd`/`vpmovsxbd`/`cvtdq2ps`.

    /// Eight unsigned bytes at `offset`, zero-extended to Int32 lanes.
    @inline(__always)
    static func bytes8(_ p: UnsafeRawPointer, _ offset: Int) -> I8 {
        let bytes = p.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt8>.self)
        var result = I8()
        for i in 0 ..< 8 { result[i] = Int32(bytes[i]) }
        return result
    }

    /// Eight signed bytes at `offset`, sign-extended to Int32 lanes.
    @inline(__always)
    static func signedBytes8(_ p: UnsafeRawPointer, _ offset: Int) -> I8 {
        let bytes = p.loadUnaligned(fromByteOffset: offset, as: SIMD8<Int8>.self)
        var result = I8()
        for i in 0 ..< 8 { result[i] = Int32(bytes[i]) }
        return result
    }

    /// Eight UInt16 lanes zero-extended to UInt32.
    @inline(__always)
    static func widen8(_ halves: SIMD8<UInt16>) -> SIMD8<UInt32> {
        var result = SIMD8<UInt32>()
        for i in 0 ..< 8 { result[i] = UInt32(halves[i]) }
        return result
    }

    /// Int32 lanes to Float (exact for the small codes used here).
    @inline(__always)
    static func float8(_ v: I8) -> F8 {
        var result = F8()
        for i in 0 ..< 8 { result[i] = Float(v[i]) }
        return result
    }

    /// Σ x over each run of 32 inputs: `columns / 32` values (the shared Σx of Q5_1, Q4_K, Q5_K).
    @inline(__always)
    static func blockSums(_ x: UnsafePointer<Float>, columns: Int, into sums: UnsafeMutablePointer<Float>) {
        for b in 0 ..< columns / 32 {
            let p = x + 32 * b
            sums[b] = ((load8(p, 0) + load8(p, 8)) + (load8(p, 16) + load8(p, 24))).sum()
        }
    }

    // MARK: Unquantized rows

    static func f32(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, columns: Int) -> Float {
        var a0 = F8(), a1 = F8(), a2 = F8(), a3 = F8()
        var i = 0
        while i + 32 <= columns {
            madd(&a0, row.loadUnaligned(fromByteOffset: 4 * i, as: F8.self), load8(x, i))
            madd(&a1, row.loadUnaligned(fromByteOffset: 4 * i + 32, as: F8.self), load8(x, i + 8))
            madd(&a2, row.loadUnaligned(fromByteOffset: 4 * i + 64, as: F8.self), load8(x, i + 16))
            madd(&a3, row.loadUnaligned(fromByteOffset: 4 * i + 96, as: F8.self), load8(x, i + 24))
            i += 32
        }
        while i + 8 <= columns {
            madd(&a0, row.loadUnaligned(fromByteOffset: 4 * i, as: F8.self), load8(x, i))
            i += 8
        }
        var total = ((a0 + a1) + (a2 + a3)).sum()
        while i < columns {
            total += row.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) * x[i]
            i += 1
        }
        return total
    }

    /// Eight binary16 values to Float, exactly (as `floatFromHalfBits`): the magnitude shifted into a
    /// Float's place and scaled by 2¹¹² is exact for normal and subnormal halves; Inf/NaN get the
    /// all-ones exponent with the payload on top of the mantissa.
    /// Binary16 bits to Float, exactly (as `floatFromHalfBits`): the magnitude shifted into a Float's
    /// place and scaled by 2¹¹² is exact for zero, subnormal and normal halves; Inf/NaN get the all-ones
    /// exponent with the payload on top of the mantissa.
    @inline(__always)
    static func halvesToFloats(_ bits: SIMD8<UInt16>) -> F8 {
        let w = widen8(bits)
        let sign = (w & 0x8000) &<< 16
        let magnitude = (w & 0x7fff) &<< 13
        let scaled = unsafeBitCast(unsafeBitCast(magnitude, to: F8.self) * 0x1p112, to: SIMD8<UInt32>.self)
        // All ones where the exponent field is 31 (Inf/NaN), else zero.
        let special = 0 &- (((magnitude &>> 23) &+ 1) &>> 5)
        return unsafeBitCast((scaled & ~special) | ((magnitude | 0x7f80_0000) & special) | sign, to: F8.self)
    }

    @inline(__always)
    static func halves8(_ p: UnsafeRawPointer, _ offset: Int) -> F8 {
        halvesToFloats(p.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt16>.self))
    }

    @inline(__always)
    static func bfloats8(_ p: UnsafeRawPointer, _ offset: Int) -> F8 {
        let w = widen8(p.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt16>.self))
        return unsafeBitCast(w &<< 16, to: F8.self)
    }

    static func f16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, columns: Int) -> Float {
        var a0 = F8(), a1 = F8()
        var i = 0
        while i + 16 <= columns {
            madd(&a0, halves8(row, 2 * i), load8(x, i))
            madd(&a1, halves8(row, 2 * i + 16), load8(x, i + 8))
            i += 16
        }
        var total = (a0 + a1).sum()
        while i < columns {
            total += row.blockScale(at: 2 * i) * x[i]
            i += 1
        }
        return total
    }

    static func bf16(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, columns: Int) -> Float {
        var a0 = F8(), a1 = F8()
        var i = 0
        while i + 16 <= columns {
            madd(&a0, bfloats8(row, 2 * i), load8(x, i))
            madd(&a1, bfloats8(row, 2 * i + 16), load8(x, i + 8))
            i += 16
        }
        var total = (a0 + a1).sum()
        while i < columns {
            total += floatFromBFloat16Bits(UInt16(littleEndian: row.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) * x[i]
            i += 1
        }
        return total
    }
}

extension UnsafeRawPointer {
    /// A block's f16 scale, exactly as `halfFloat(at:)`. When the package is built for x86-64-v3 (AVX2, FMA,
    /// F16C) with `-D STREAMPPL_X86_64_V3`, the conversion is the single `vcvtph2ps` instruction; otherwise
    /// `Float16` → `Float` would be a libcall on x86-64, so the portable bit manipulation is used.
    @inline(__always)
    func blockScale(at offset: Int) -> Float {
        #if STREAMPPL_X86_64_V3
        Float(Float16(bitPattern: UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
        #else
        halfFloat(at: offset)
        #endif
    }
}
