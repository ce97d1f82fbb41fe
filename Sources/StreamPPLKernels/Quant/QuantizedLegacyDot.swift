/// Legacy 32-element block kernels (layouts in LegacyQuants.swift).
///
/// Blocks are taken eight at a time: their f16 scales (and offsets) are gathered into one `SIMD8` and
/// converted together, so the per-block scalar work is a broadcast from that vector; a row's last
/// `blocks % 8` blocks go one by one.
extension QuantizedDot {
    /// Eight f16 values `stride` bytes apart, converted exactly.
    @inline(__always)
    static func gatherHalves8(_ p: UnsafeRawPointer, stride: Int) -> F8 {
        var bits = SIMD8<UInt16>()
        for k in 0 ..< 8 { bits[k] = p.loadUnaligned(fromByteOffset: k * stride, as: UInt16.self) }
        return halvesToFloats(bits)
    }

    /// Runs `body(block, x, d, &acc0, &acc1)` over a row of legacy blocks whose f16 `d` is at byte 0
    /// and, when `minOffset` is not nil, whose f16 `m` there multiplies the block's Σx (`sums`).
    ///
    /// Two passes so that both loops stay simple for the optimizer: the first converts the scales eight
    /// blocks at a time into `scratch` (`blocks` Floats) and sums m·Σx; the second is the block loop,
    /// whose scale is one broadcast load.
    @inline(__always)
    static func legacyRow(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, sums: UnsafePointer<Float>?, blocks: Int,
                          blockBytes: Int, minOffset: Int?, scratch: UnsafeMutablePointer<Float>,
                          _ body: (UnsafeRawPointer, UnsafePointer<Float>, F8, inout F8, inout F8) -> Void) -> Float {
        var offsets = F8(), tail: Float = 0
        var b = 0
        while b + 8 <= blocks {
            let base = row + b * blockBytes
            UnsafeMutableRawPointer(scratch + b).storeBytes(of: gatherHalves8(base, stride: blockBytes), as: F8.self)
            if let minOffset, let sums {
                madd(&offsets, gatherHalves8(base + minOffset, stride: blockBytes), load8(sums, b))
            }
            b += 8
        }
        while b < blocks {
            let block = row + b * blockBytes
            scratch[b] = block.halfFloat(at: 0)
            if let minOffset, let sums { tail += block.halfFloat(at: minOffset) * sums[b] }
            b += 1
        }
        var acc0 = F8(), acc1 = F8()
        var block = row, xb = x
        for b in 0 ..< blocks {
            body(block, xb, F8(repeating: scratch[b]), &acc0, &acc1)
            block += blockBytes
            xb += 32
        }
        return (acc0 + acc1).sum() + (offsets.sum() + tail)
    }

    /// Q8_0: d · Σ q·x per block.
    static func q8_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        legacyRow(row, x, sums: nil, blocks: blocks, blockBytes: 34, minOffset: nil, scratch: scratch, q8_0Block)
    }

    @inline(__always)
    static func q8_0Block(_ block: UnsafeRawPointer, _ xb: UnsafePointer<Float>, _ d: F8, _ acc0: inout F8, _ acc1: inout F8) {
        var s0 = float8(signedBytes8(block, 2)) * load8(xb, 0)
        var s1 = float8(signedBytes8(block, 10)) * load8(xb, 8)
        madd(&s0, float8(signedBytes8(block, 18)), load8(xb, 16))
        madd(&s1, float8(signedBytes8(block, 26)), load8(xb, 24))
        madd(&acc0, d, s0)
        madd(&acc1, d, s1)
    }

    /// Q4_0: d · Σ (nibble − 8)·x per block.
    static func q4_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        legacyRow(row, x, sums: nil, blocks: blocks, blockBytes: 18, minOffset: nil, scratch: scratch, q4_0Block)
    }

    @inline(__always)
    static func q4_0Block(_ block: UnsafeRawPointer, _ xb: UnsafePointer<Float>, _ d: F8, _ acc0: inout F8, _ acc1: inout F8) {
        let w0 = bytes8(block, 2), w1 = bytes8(block, 10)
        var s0 = float8((w0 & 15) &- 8) * load8(xb, 0)
        var s1 = float8((w1 & 15) &- 8) * load8(xb, 8)
        madd(&s0, float8((w0 &>> 4) &- 8), load8(xb, 16))
        madd(&s1, float8((w1 &>> 4) &- 8), load8(xb, 24))
        madd(&acc0, d, s0)
        madd(&acc1, d, s1)
    }

    /// Q4_1: d · Σ nibble·x + m · Σ x per block.
    static func q4_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var acc0 = F8(), acc1 = F8()
        var block = row, xb = x
        for _ in 0 ..< blocks {
            let d = F8(repeating: block.halfFloat(at: 0)), m = F8(repeating: block.halfFloat(at: 2))
            let w0 = bytes8(block, 4), w1 = bytes8(block, 12)
            // Each weight exactly as `dequantize` makes it (d·q, then + m, two roundings), not the cheaper
            // d·Σq·x + m·Σx: where window attention has collapsed, that rounding difference was amplified to
            // 2e-3 in an NLL, past METHOD.md §3's bar between the token-by-token and the chunked path.
            madd(&acc0, float8(w0 & 15) * d + m, load8(xb, 0))
            madd(&acc1, float8(w1 & 15) * d + m, load8(xb, 8))
            madd(&acc0, float8(w0 &>> 4) * d + m, load8(xb, 16))
            madd(&acc1, float8(w1 &>> 4) * d + m, load8(xb, 24))
            block += 20
            xb += 32
        }
        return (acc0 + acc1).sum()
    }

    /// Lane j's bit 4 of a 5-bit code: bit `j + shift` of `qh`, as 0 or 16.
    @inline(__always)
    static func fifthBit(_ qh: I8, _ shift: I8) -> I8 {
        ((qh &>> shift) & 1) &<< 4
    }

    /// Q5_0: d · Σ (5-bit code − 16)·x per block.
    static func q5_0(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        legacyRow(row, x, sums: nil, blocks: blocks, blockBytes: 22, minOffset: nil, scratch: scratch, q5_0Block)
    }

    @inline(__always)
    static func q5_0Block(_ block: UnsafeRawPointer, _ xb: UnsafePointer<Float>, _ d: F8, _ acc0: inout F8, _ acc1: inout F8) {
        let sh0 = I8(0, 1, 2, 3, 4, 5, 6, 7), sh1 = sh0 &+ 8, sh2 = sh0 &+ 16, sh3 = sh0 &+ 24
        let qh = I8(repeating: Int32(bitPattern: block.littleEndianUInt32(at: 2)))
        let w0 = bytes8(block, 6), w1 = bytes8(block, 14)
        var s0 = float8(((w0 & 15) | fifthBit(qh, sh0)) &- 16) * load8(xb, 0)
        var s1 = float8(((w1 & 15) | fifthBit(qh, sh1)) &- 16) * load8(xb, 8)
        madd(&s0, float8(((w0 &>> 4) | fifthBit(qh, sh2)) &- 16), load8(xb, 16))
        madd(&s1, float8(((w1 &>> 4) | fifthBit(qh, sh3)) &- 16), load8(xb, 24))
        madd(&acc0, d, s0)
        madd(&acc1, d, s1)
    }

    /// Q5_1: d · Σ code·x + m · Σ x per block.
    static func q5_1(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, sums: UnsafePointer<Float>, blocks: Int, scratch: UnsafeMutablePointer<Float>) -> Float {
        legacyRow(row, x, sums: sums, blocks: blocks, blockBytes: 24, minOffset: 2, scratch: scratch, q5_1Block)
    }

    @inline(__always)
    static func q5_1Block(_ block: UnsafeRawPointer, _ xb: UnsafePointer<Float>, _ d: F8, _ acc0: inout F8, _ acc1: inout F8) {
        let sh0 = I8(0, 1, 2, 3, 4, 5, 6, 7), sh1 = sh0 &+ 8, sh2 = sh0 &+ 16, sh3 = sh0 &+ 24
        let qh = I8(repeating: Int32(bitPattern: block.littleEndianUInt32(at: 4)))
        let w0 = bytes8(block, 8), w1 = bytes8(block, 16)
        var s0 = float8((w0 & 15) | fifthBit(qh, sh0)) * load8(xb, 0)
        var s1 = float8((w1 & 15) | fifthBit(qh, sh1)) * load8(xb, 8)
        madd(&s0, float8((w0 &>> 4) | fifthBit(qh, sh2)), load8(xb, 16))
        madd(&s1, float8((w1 &>> 4) | fifthBit(qh, sh3)), load8(xb, 24))
        madd(&acc0, d, s0)
        madd(&acc1, d, s1)
    }
}
