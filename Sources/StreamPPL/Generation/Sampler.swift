#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small deterministic random number generator (SplitMix64), so that a seed gives the same samples everywhere.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// How the next token is chosen from the logits (`generate`): greedy by default (temperature 0: the highest logit,
/// the lowest id among equal ones, as llama.cpp's greedy sampler), else a draw from the softmax of logits / temperature
/// restricted to the smallest set of most likely tokens whose probabilities reach `topP` (nucleus sampling).
public struct Sampler: Sendable {
    public let temperature: Double
    public let topP: Double
    private var random: SplitMix64

    public init(temperature: Double = 0, topP: Double = 1, seed: UInt64 = 0) throws(GenerationError) {
        guard temperature.isFinite, temperature >= 0 else { throw .invalidSetting(flag: "temperature", found: "\(temperature)", expected: "a number >= 0") }
        guard topP > 0, topP <= 1 else { throw .invalidSetting(flag: "top-p", found: "\(topP)", expected: "a number in (0, 1]") }
        self.temperature = temperature
        self.topP = topP
        random = SplitMix64(seed: seed)
    }

    public mutating func next(logits: UnsafePointer<Float>, count: Int) -> Int32 {
        var best = 0
        for id in 1 ..< count where logits[id] > logits[best] { best = id }
        guard temperature > 0 else { return Int32(best) }
        let top = Double(logits[best])
        var candidates = (0 ..< count).map { (id: $0, weight: exp((Double(logits[$0]) - top) / temperature)) }
        candidates.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.id < $1.id }
        let total = candidates.reduce(0) { $0 + $1.weight }
        var kept = 0, mass = 0.0
        while kept < candidates.count, mass < topP * total {
            mass += candidates[kept].weight
            kept += 1
        }
        var draw = Double.random(in: 0 ..< 1, using: &random) * mass
        for candidate in candidates.prefix(kept) {
            draw -= candidate.weight
            if draw < 0 { return Int32(candidate.id) }
        }
        return Int32(candidates[kept - 1].id)
    }
}
