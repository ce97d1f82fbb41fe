#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StreamPPLKernels

/// Attention with linear biases (MPT): instead of rotary embedding, head h adds -slope_h · |query position - key position|
/// to its scaled scores, in the positions the cache policy assigns (METHOD.md §2), as llama.cpp does.
public struct ALiBi: Sendable, Equatable {
    /// One per query head, llama.cpp's geometric sequence (`ggml_soft_max_ext` with `max_bias`): with n the largest power
    /// of two up to the head count, m0 = 2^(-maxBias/n) and m1 = 2^(-maxBias/2n), head h < n has m0^(h+1) and head h ≥ n
    /// has m1^(2(h-n)+1), which interleaves the slopes a model of 2n heads would have.
    public let slopes: [Float]

    public init(headCount: Int, maxBias: Float) {
        let powerOfTwo = 1 << Int(log2(Float(headCount)).rounded(.down))
        let m0 = powf(2, -maxBias / Float(powerOfTwo)), m1 = powf(2, -maxBias / 2 / Float(powerOfTwo))
        slopes = (0 ..< headCount).map { h in h < powerOfTwo ? powf(m0, Float(h + 1)) : powf(m1, Float(2 * (h - powerOfTwo) + 1)) }
    }

    /// The model's biases, or nil when it has none (`alibiMaxBias` unset).
    public init?(config: ModelConfig) {
        guard let maxBias = config.alibiMaxBias else { return nil }
        self.init(headCount: config.headCount, maxBias: maxBias)
    }

    /// The kernel's bias for a segment whose keys sit at `keyPositions` and whose query rows at `queryPositions`.
    func bias(queryPositions: [Int], keyPositions: [Int]) -> AttentionSegment.PositionBias {
        AttentionSegment.PositionBias(slopes: slopes, queryPositions: queryPositions, keyPositions: keyPositions)
    }
}
