/// K-quant row kernels (layouts in KQuants.swift), in the style of `QuantizedDot`'s legacy kernels.
extension QuantizedDot {
    /// Q4_K: per sub-block s of 32, (d·scale_s) · Σ q·x − (dmin·min_s) · Σ x.
    static func q4_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, sums: UnsafePointer<Float>, blocks: Int) -> Float {
        var acc0 = F8(), acc1 = F8()
        var offsets: Float = 0
        var block = row, xb = x, sb = sums
        for _ in 0 ..< blocks {
            let d = block.blockScale(at: 0)
            let dmin = block.blockScale(at: 2)
            let scales = block + 4
            for pair in 0 ..< 4 {
                let (lowScale, lowMin) = kQuantScaleAndMin(scales, index: 2 * pair)
                let (highScale, highMin) = kQuantScaleAndMin(scales, index: 2 * pair + 1)
                offsets += (dmin * lowMin) * sb[2 * pair] + (dmin * highMin) * sb[2 * pair + 1]
                let qs = block + 16 + 32 * pair
                let xp = xb + 64 * pair
                let w0 = bytes8(qs, 0), w1 = bytes8(qs, 8), w2 = bytes8(qs, 16), w3 = bytes8(qs, 24)
                var low = float8(w0 & 15) * load8(xp, 0)
                var low1 = float8(w1 & 15) * load8(xp, 8)
                var high = float8(w0 &>> 4) * load8(xp, 32)
                var high1 = float8(w1 &>> 4) * load8(xp, 40)
                madd(&low, float8(w2 & 15), load8(xp, 16))
                madd(&low1, float8(w3 & 15), load8(xp, 24))
                madd(&high, float8(w2 &>> 4), load8(xp, 48))
                madd(&high1, float8(w3 &>> 4), load8(xp, 56))
                madd(&acc0, F8(repeating: d * lowScale), (low + low1))
                madd(&acc1, F8(repeating: d * highScale), (high + high1))
            }
            block += 144
            xb += 256
            sb += 8
        }
        return (acc0 + acc1).sum() - offsets
    }

    /// Q5_K: as Q4_K with bit 4 of sub-block s's element l in bit s of qh[l].
    static func q5_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, sums: UnsafePointer<Float>, blocks: Int) -> Float {
        var acc0 = F8(), acc1 = F8()
        var offsets: Float = 0
        var block = row, xb = x, sb = sums
        for _ in 0 ..< blocks {
            let d = block.blockScale(at: 0)
            let dmin = block.blockScale(at: 2)
            let scales = block + 4
            let qh = block + 16
            let h0 = bytes8(qh, 0), h1 = bytes8(qh, 8), h2 = bytes8(qh, 16), h3 = bytes8(qh, 24)
            for pair in 0 ..< 4 {
                let (lowScale, lowMin) = kQuantScaleAndMin(scales, index: 2 * pair)
                let (highScale, highMin) = kQuantScaleAndMin(scales, index: 2 * pair + 1)
                offsets += (dmin * lowMin) * sb[2 * pair] + (dmin * highMin) * sb[2 * pair + 1]
                let qs = block + 48 + 32 * pair
                let xp = xb + 64 * pair
                let lowBit = Int32(2 * pair), highBit = Int32(2 * pair + 1)
                let w0 = bytes8(qs, 0), w1 = bytes8(qs, 8), w2 = bytes8(qs, 16), w3 = bytes8(qs, 24)
                var low = float8((w0 & 15) | (((h0 &>> lowBit) & 1) &<< 4)) * load8(xp, 0)
                var low1 = float8((w1 & 15) | (((h1 &>> lowBit) & 1) &<< 4)) * load8(xp, 8)
                var high = float8((w0 &>> 4) | (((h0 &>> highBit) & 1) &<< 4)) * load8(xp, 32)
                var high1 = float8((w1 &>> 4) | (((h1 &>> highBit) & 1) &<< 4)) * load8(xp, 40)
                madd(&low, float8((w2 & 15) | (((h2 &>> lowBit) & 1) &<< 4)), load8(xp, 16))
                madd(&low1, float8((w3 & 15) | (((h3 &>> lowBit) & 1) &<< 4)), load8(xp, 24))
                madd(&high, float8((w2 &>> 4) | (((h2 &>> highBit) & 1) &<< 4)), load8(xp, 48))
                madd(&high1, float8((w3 &>> 4) | (((h3 &>> highBit) & 1) &<< 4)), load8(xp, 56))
                madd(&acc0, F8(repeating: d * lowScale), (low + low1))
                madd(&acc1, F8(repeating: d * highScale), (high + high1))
            }
            block += 176
            xb += 256
            sb += 8
        }
        return (acc0 + acc1).sum() - offsets
    }

    /// Q6_K: per sub-block of 16, (d·scale) · Σ (code − 32)·x.
    static func q6_K(_ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, blocks: Int) -> Float {
        var acc0 = F8(), acc1 = F8()
        var block = row, xb = x
        for _ in 0 ..< blocks {
            let d = block.blockScale(at: 208)
            for half in 0 ..< 2 {
                let ql = block + 64 * half
                let qh = block + 128 + 32 * half
                let scales = block + 192 + 8 * half
                let xh = xb + 128 * half
                for group in 0 ..< 2 {   // elements 16·group ..< 16·group + 16 of each 32-run
                    var s0 = F8(), s1 = F8(), s2 = F8(), s3 = F8()
                    for chunk in 0 ..< 2 {
                        let l = 16 * group + 8 * chunk
                        let a = bytes8(ql, l), b = bytes8(ql, l + 32), h = bytes8(qh, l)
                        madd(&s0, float8(((a & 15) | ((h & 3) &<< 4)) &- 32), load8(xh, l))
                        madd(&s1, float8(((b & 15) | (((h &>> 2) & 3) &<< 4)) &- 32), load8(xh, l + 32))
                        madd(&s2, float8(((a &>> 4) | (((h &>> 4) & 3) &<< 4)) &- 32), load8(xh, l + 64))
                        madd(&s3, float8(((b &>> 4) | ((h &>> 6) &<< 4)) &- 32), load8(xh, l + 96))
                    }
                    @inline(__always) func scale(_ k: Int) -> F8 {
                        F8(repeating: d * Float(Int8(bitPattern: scales.quantByte(at: group + 2 * k))))
                    }
                    madd(&acc0, scale(0), s0)
                    madd(&acc0, scale(1), s1)
                    madd(&acc1, scale(2), s2)
                    madd(&acc1, scale(3), s3)
                }
            }
            block += 210
            xb += 256
        }
        return (acc0 + acc1).sum()
    }
}
