/// Vectorized exponentials for the softmax and NLL loops, which otherwise spend their time in scalar `expf`.
/// The polynomial is Cephes' `expf` (relative error about 1e-7, i.e. float32 rounding level), written with
/// operations plain SSE2 has (no rounding instruction), evaluated 16 lanes at a time.
enum VectorMath {
    typealias Lanes = SIMD16<Float>

    @inline(__always)
    static func exp(_ value: Lanes) -> Lanes {
        // Below -87.3 the result is under Float's normal range; softmax and NLL treat it as zero anyway.
        var x = value
        x.replace(with: -87.3, where: x .< -87.3)
        x.replace(with: 88.7, where: x .> 88.7)
        // Adding 1.5 * 2^23 rounds to the nearest integer n and leaves n in the low mantissa bits.
        let shifted = x * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
        var polynomial = Lanes(repeating: 1.987_569_15e-4)
        polynomial = polynomial * r + 1.398_199_95e-3
        polynomial = polynomial * r + 8.333_451_9e-3
        polynomial = polynomial * r + 4.166_579_59e-2
        polynomial = polynomial * r + 1.666_666_55e-1
        polynomial = polynomial * r + 5.000_000_12e-1
        let result = polynomial * (r * r) + r + 1
        // 2^n as a float: n + 127 in the exponent field.
        let exponent = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return result * unsafeBitCast(exponent, to: Lanes.self)
    }

    /// values[i] ← exp(values[i] - shift); returns the sum of the new values.
    static func exponentiate(_ values: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Float {
        var total = Lanes.zero
        var i = 0
        while i + 16 <= count {
            let e = exp(UnsafeRawPointer(values + i).loadUnaligned(as: Lanes.self) - shift)
            UnsafeMutableRawPointer(values + i).storeBytes(of: e, as: Lanes.self)
            total += e
            i += 16
        }
        var sum = total.sum()
        while i < count {
            let e = exp(Lanes(repeating: values[i] - shift))[0]
            values[i] = e
            sum += e
            i += 1
        }
        return sum
    }

    /// Σ exp(values[i] - shift) in Float64 (the NLL normalizer, METHOD.md §1), without storing the exponentials.
    static func sumOfExponentials(_ values: UnsafePointer<Float>, count: Int, shift: Float) -> Double {
        var total: Double = 0
        var i = 0
        while i + 16 <= count {
            let e = exp(UnsafeRawPointer(values + i).loadUnaligned(as: Lanes.self) - shift)
            total += Double(e.sum())
            i += 16
        }
        while i < count {
            total += Double(exp(Lanes(repeating: values[i] - shift))[0])
            i += 1
        }
        return total
    }

    static func maximum(_ values: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = Lanes(repeating: -.infinity)
        var i = 0
        while i + 16 <= count {
            let next = UnsafeRawPointer(values + i).loadUnaligned(as: Lanes.self)
            lanes.replace(with: next, where: next .> lanes)
            i += 16
        }
        var result = lanes.max()
        while i < count {
            result = Swift.max(result, values[i])
            i += 1
        }
        return result
    }
}
