import Foundation

/// One point of the paper's Figure 10 (per-token decoding latency and memory against cache size): the time to
/// make one more prediction once a policy is in its steady state, and the memory of the process measuring it.
/// One process measures one point, so the peak belongs to that point alone.
public struct LatencyMeasurement: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable {
        /// `x+y` (and `h2o:H+R`, `tova:N`): one token per forward pass through a full cache.
        case streaming
        /// `recompute:L`: one pass from scratch over the last L tokens per prediction.
        case recompute
    }

    public let config: String
    public let mode: Mode
    /// Tokens each prediction attends over in the steady state: sinks + window, or L.
    public let cacheTokens: Int
    /// Timed predictions.
    public let tokens: Int
    public let seconds: Double
    /// Peak resident memory of the process after measuring (VmHWM); nil where /proc is missing.
    public let peakResidentBytes: Int?
    /// Resident memory once the model is loaded, before measuring: the peak minus this is the policy's own.
    public let modelResidentBytes: Int?

    public var millisecondsPerToken: Double { seconds * 1000 / Double(tokens) }
    public var tokensPerSecond: Double { Double(tokens) / seconds }

    public init(config: String, mode: Mode, cacheTokens: Int, tokens: Int, seconds: Double, peakResidentBytes: Int?,
                modelResidentBytes: Int?) {
        self.config = config
        self.mode = mode
        self.cacheTokens = cacheTokens
        self.tokens = tokens
        self.seconds = seconds
        self.peakResidentBytes = peakResidentBytes
        self.modelResidentBytes = modelResidentBytes
    }

    private enum CodingKeys: String, CodingKey {
        case config, mode, cacheTokens = "cache_tokens", tokens, seconds, millisecondsPerToken = "ms_per_token",
             tokensPerSecond = "tokens_per_second", peakResidentBytes = "peak_rss_bytes", modelResidentBytes = "model_rss_bytes"
    }

    /// Reads what `json()` wrote; the derived rates are recomputed, not read.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(config: try container.decode(String.self, forKey: .config), mode: try container.decode(Mode.self, forKey: .mode),
                  cacheTokens: try container.decode(Int.self, forKey: .cacheTokens), tokens: try container.decode(Int.self, forKey: .tokens),
                  seconds: try container.decode(Double.self, forKey: .seconds),
                  peakResidentBytes: try container.decodeIfPresent(Int.self, forKey: .peakResidentBytes),
                  modelResidentBytes: try container.decodeIfPresent(Int.self, forKey: .modelResidentBytes))
    }

    /// Every key is written, unknown memory as null, so a reader never has to guess whether one is missing.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(config, forKey: .config)
        try container.encode(mode, forKey: .mode)
        try container.encode(cacheTokens, forKey: .cacheTokens)
        try container.encode(tokens, forKey: .tokens)
        try container.encode(seconds, forKey: .seconds)
        try container.encode(millisecondsPerToken, forKey: .millisecondsPerToken)
        try container.encode(tokensPerSecond, forKey: .tokensPerSecond)
        try container.encode(peakResidentBytes, forKey: .peakResidentBytes)
        try container.encode(modelResidentBytes, forKey: .modelResidentBytes)
    }

    /// One line of JSON, keys sorted.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

public enum LatencyError: Error, CustomStringConvertible, Equatable {
    case unsupportedConfig(config: String, reason: String)
    case dataTooShort(data: String, config: String, needed: Int)

    public var description: String {
        switch self {
        case let .unsupportedConfig(config, reason):
            "cache config '\(config)' has no latency point: \(reason)"
        case let .dataTooShort(data, config, needed):
            "\(data): fewer than \(needed) predictions; the latency of '\(config)' needs \(needed) (its cache filled, then the timed ones)"
        }
    }
}

extension LatencyMeasurement {
    /// How `config` is measured and how many tokens its cache holds in the steady state, or why it has no point.
    public static func plan(for config: CacheConfig) throws(LatencyError) -> (mode: Mode, cacheTokens: Int) {
        switch config.policy {
        case .dense:
            throw .unsupportedConfig(config: config.text, reason: "a dense cache never reaches a steady state; use x+y or recompute:L")
        case let .recompute(length, stride):
            guard stride == 1 else {
                throw .unsupportedConfig(config: config.text, reason: "the paper's re-computation baseline has stride 1; use recompute:\(length)")
            }
            return (.recompute, length)
        case .sinkWindow, .heavyHitters, .tova:
            return (.streaming, config.policy.keptTokens ?? 0)
        }
    }
}

extension ThroughputBenchmark {
    /// Figure 10's point for `config`, timed over `tokens` predictions in the steady state.
    ///
    /// `x+y` streams its first x + y predictions untimed, one token per forward pass (the same path as the
    /// timed ones, so the memory peak is that of the token-by-token cache alone), then times the next `tokens`.
    /// `recompute:L` times `tokens` passes from scratch over the first L tokens of the data.
    public func measureLatency(_ config: CacheConfig, tokens: Int) throws -> LatencyMeasurement {
        precondition(tokens > 0, "a latency needs at least one timed prediction")
        let (mode, cacheTokens) = try LatencyMeasurement.plan(for: config)
        let modelResident = MachineInfo.residentBytes()
        let timed: ThroughputMeasurement
        switch mode {
        case .recompute:
            timed = try measureRecompute(length: cacheTokens, repetitions: tokens)
            guard timed.passSize == cacheTokens else {
                throw LatencyError.dataTooShort(data: dataset.path, config: config.text, needed: cacheTokens)
            }
        case .streaming:
            timed = try measure(config, predictions: tokens, warmup: cacheTokens, passSize: 1, exact: true)
            guard timed.predictions == tokens else {
                throw LatencyError.dataTooShort(data: dataset.path, config: config.text, needed: cacheTokens + tokens)
            }
        }
        return LatencyMeasurement(config: config.text, mode: mode, cacheTokens: cacheTokens, tokens: timed.predictions, seconds: timed.seconds,
                                  peakResidentBytes: MachineInfo.peakResidentBytes(), modelResidentBytes: modelResident)
    }
}
