import Foundation
import StreamPPLKernels

/// What `bench` measures: each cache config at each chunk size, each on the token-by-token path, and batched
/// re-computation at each window length.
public struct BenchSettings: Sendable, Equatable {
    public var caches: [CacheConfig]
    public var chunkSizes: [Int]
    /// Timed predictions per chunked measurement, after the cache has filled.
    public var tokens: Int
    /// Timed predictions per token-by-token measurement, after the cache has filled.
    public var exactTokens: Int
    /// Window lengths L of `recompute:L` (may be none).
    public var recompute: [Int]
    /// Passes per recompute measurement.
    public var recomputePasses: Int

    public init(caches: [CacheConfig], chunkSizes: [Int], tokens: Int = 2048, exactTokens: Int = 128, recompute: [Int] = [256, 1024],
                recomputePasses: Int = 8) {
        self.caches = caches
        self.chunkSizes = chunkSizes
        self.tokens = tokens
        self.exactTokens = exactTokens
        self.recompute = recompute
        self.recomputePasses = recomputePasses
    }

    /// Every count is positive and there is something to measure: a zero would divide by zero in the report.
    public func validate() throws(BenchError) {
        guard !caches.isEmpty else { throw .invalid(setting: "caches", found: "none", expected: "at least one cache config") }
        guard !chunkSizes.isEmpty else { throw .invalid(setting: "chunk-sizes", found: "none", expected: "at least one chunk size") }
        for (setting, values) in [("chunk-sizes", chunkSizes), ("recompute", recompute)] {
            if let bad = values.first(where: { $0 < 1 }) { throw .invalid(setting: setting, found: String(bad), expected: "positive whole numbers") }
        }
        for (setting, value) in [("tokens", tokens), ("exact-tokens", exactTokens), ("recompute-passes", recomputePasses)] where value < 1 {
            throw .invalid(setting: setting, found: String(value), expected: "a positive whole number")
        }
    }
}

public enum BenchError: Error, CustomStringConvertible, Equatable {
    case invalid(setting: String, found: String, expected: String)

    public var description: String {
        switch self {
        case let .invalid(setting, found, expected): "bench setting \(setting): expected \(expected), found \(found)"
        }
    }
}

/// `bench`'s Markdown report: sgemm GFLOP/s measured in the same run, then for each cache config and chunk size
/// the chunked path's tokens/s and useful GFLOP/s against sgemm, the token-by-token path and the speedup, batched
/// re-computation, where the time goes for the middle config, and peak memory.
public enum BenchReport {
    /// Loads the model of `gguf` (timed), measures `settings` on the start of `data` and returns the report.
    /// `modelPath` and `data` are named in it; each row is also handed to `events` as it is measured.
    public static func markdown(gguf: GGUFFile, modelPath: String, data: String, settings: BenchSettings, events: RunEvents? = nil) throws -> String {
        try settings.validate()
        let started = Date()
        let model = try ModelRegistry.load(gguf)
        let loadSeconds = Date().timeIntervalSince(started)
        let benchmark = ThroughputBenchmark(evaluator: Evaluator(model: model, tokenizer: try Tokenizer(gguf: gguf)), dataset: try Dataset(path: data))
        let sgemm = SGEMMProbe.gigaflops()
        let configs = settings.caches, passSizes = settings.chunkSizes, tokens = settings.tokens, exactTokens = settings.exactTokens
        var report = [
            "# streamppl bench", "",
            "Machine: \(MachineInfo.description)  ",
            "Model: `\(modelPath)` (\(model.config.name)), data: `\(data)`  ",
            "Model load (open, map, dequantize to Float32): \(String(format: "%.2f", loadSeconds)) s  ",
            "sgemm (OpenBLAS, 256x576 by 576x1536, all cores), measured in this run: **\(String(format: "%.1f", sgemm)) GFLOP/s**", "",
            "Useful GFLOP/s counts 2 x every weight multiplied per token, the output head per scored token, and q·k, p·v over",
            "the keys each token may see (METHOD.md §2); masked work the chunked path also does is not counted.", "",
            "Each measurement first streams as many predictions as the cache holds (untimed), then times the next ones,",
            "so full caches are measured in their steady state.", "",
            "## Chunked path (\(tokens) timed predictions)", "",
            "| cache | chunk | tokens/s | useful GFLOP/s | of sgemm |",
            "|---|---:|---:|---:|---:|",
        ]
        func measured(_ row: String) {
            report.append(row)
            events?.notice(.benchRowMeasured(row))
        }
        var bestChunked: [String: ThroughputMeasurement] = [:]
        // The policies that evict by attention have no chunked path: they are measured token by token only.
        let chunkedConfigs = configs.filter { !$0.policy.evictsByAttention }
        for config in chunkedConfigs {
            for passSize in passSizes {
                let m = try benchmark.measure(config, predictions: tokens, warmup: capacity(config), passSize: passSize)
                measured("| `\(config.text)` | \(passSize) | \(f1(m.tokensPerSecond)) | \(f1(m.gigaflops)) | \(percent(m.gigaflops / sgemm)) |")
                if m.tokensPerSecond > bestChunked[config.text]?.tokensPerSecond ?? 0 { bestChunked[config.text] = m }
            }
        }
        report += ["", "## Token-by-token path (\(exactTokens) predictions, one token per forward pass) vs. the best chunk size", "",
                   "| cache | token-by-token tokens/s | chunked tokens/s (chunk) | speedup |", "|---|---:|---:|---:|"]
        var tokenByToken: [String: ThroughputMeasurement] = [:]
        for config in configs {
            let exact = try benchmark.measure(config, predictions: exactTokens, warmup: capacity(config), passSize: 1, exact: true)
            tokenByToken[config.text] = exact
            guard let best = bestChunked[config.text] else {
                measured("| `\(config.text)` | \(f1(exact.tokensPerSecond)) | none (evicts by attention) | |")
                continue
            }
            measured("| `\(config.text)` | \(f1(exact.tokensPerSecond)) | \(f1(best.tokensPerSecond)) (\(best.passSize)) | "
                + "\(f1(best.tokensPerSecond / exact.tokensPerSecond))x |")
        }
        report += evictionByAttentionSection(configs, tokenByToken: tokenByToken)
        report += try sideBySideSection(benchmark, settings: settings, chunked: chunkedConfigs, bestChunked: bestChunked) {
            events?.notice(.benchRowMeasured($0))
        }
        report += ["", "## Sliding window with re-computation: one batched pass from scratch over L tokens per prediction", "",
                   "| config | tokens/s | ms per token | useful GFLOP/s |", "|---|---:|---:|---:|"]
        for length in settings.recompute {
            let m = try benchmark.measureRecompute(length: length, repetitions: settings.recomputePasses)
            measured("| `recompute:\(length)` | \(f2(m.tokensPerSecond)) | \(f1(1000 / m.tokensPerSecond)) | \(f1(m.gigaflops)) |")
        }
        let profiled = chunkedConfigs.isEmpty ? configs : chunkedConfigs
        let middle = profiled[profiled.count / 2]
        let chunk = bestChunked[middle.text]?.passSize ?? passSizes[0]
        for (title, exact, count) in [("chunked, chunk \(chunk)", false, tokens), ("token-by-token", true, exactTokens)]
            where exact || !middle.policy.evictsByAttention {
            let profile = ForwardProfile()
            let m = try benchmark.measure(middle, predictions: count, warmup: capacity(middle), passSize: exact ? 1 : chunk, exact: exact, profile: profile)
            report += ["", "## Where the time goes: `\(middle.text)`, \(title), \(count) predictions (\(f1(m.tokensPerSecond)) tokens/s)", "",
                       "| operation | seconds | share |", "|---|---:|---:|"]
            for operation in ForwardProfile.Operation.allCases {
                let seconds = profile.seconds[operation] ?? 0
                report.append("| \(operation.rawValue) | \(String(format: "%.3f", seconds)) | \(percent(seconds / m.seconds)) |")
            }
            report.append("| other (tokenizing, logging, bookkeeping) | \(String(format: "%.3f", m.seconds - profile.total)) | "
                + "\(percent((m.seconds - profile.total) / m.seconds)) |")
        }
        let peak = MachineInfo.peakResidentBytes().map { String(format: "%.0f MB", Double($0) / 1e6) } ?? "unknown"
        report += ["", "Peak resident memory of this whole run: \(peak)", ""]
        return report.joined(separator: "\n")
    }

    /// Whether independent jobs should share the machine (`run --jobs`): the middle config's jobs one at a time with every
    /// core, then one job per core side by side, on the chunked path (best chunk) and token by token; total tokens/s.
    private static func sideBySideSection(_ benchmark: ThroughputBenchmark, settings: BenchSettings, chunked: [CacheConfig],
                                          bestChunked: [String: ThroughputMeasurement], measured: (String) -> Void) throws -> [String] {
        let cores = Parallel.cores
        guard cores > 1, !chunked.isEmpty else { return [] }
        let config = chunked[chunked.count / 2], chunk = bestChunked[config.text]?.passSize ?? settings.chunkSizes[0]
        var lines = ["", "## Jobs side by side: `\(config.text)`, \(cores) jobs, one at a time with \(cores) threads or all at once with one thread each", "",
                     "| path | one at a time: tokens/s | side by side: tokens/s in all | ratio |", "|---|---:|---:|---:|"]
        for (path, exact, count) in [("chunked, chunk \(chunk)", false, settings.tokens), ("token-by-token", true, settings.exactTokens)] {
            let alone = try benchmark.measureSideBySide(config, slots: 1, predictions: count, warmup: capacity(config), passSize: exact ? 1 : chunk,
                                                        exact: exact)
            let together = try benchmark.measureSideBySide(config, slots: cores, predictions: count, warmup: capacity(config),
                                                           passSize: exact ? 1 : chunk, exact: exact)
            let row = "| \(path) | \(f1(alone.tokensPerSecond)) | \(f1(together.tokensPerSecond)) | \(f2(together.tokensPerSecond / alone.tokensPerSecond))x |"
            measured(row)
            lines.append(row)
        }
        return lines
    }

    /// H2O and TOVA beside the `x+y` config of the same budget measured in this run, if any: what their score bookkeeping
    /// costs (the token-by-token rows above, side by side).
    private static func evictionByAttentionSection(_ configs: [CacheConfig], tokenByToken: [String: ThroughputMeasurement]) -> [String] {
        let pairs = configs.filter(\.policy.evictsByAttention).compactMap { config -> (CacheConfig, CacheConfig)? in
            guard let same = configs.first(where: { if case .sinkWindow = $0.policy { $0.policy.keptTokens == config.policy.keptTokens } else { false } })
            else { return nil }
            return (config, same)
        }
        guard !pairs.isEmpty else { return [] }
        var lines = ["", "## Eviction by attention vs. `x+y` of the same budget, token by token", "",
                     "| cache | tokens/s | `x+y` | tokens/s | ratio |", "|---|---:|---|---:|---:|"]
        for (config, window) in pairs {
            guard let ours = tokenByToken[config.text], let theirs = tokenByToken[window.text] else { continue }
            lines.append("| `\(config.text)` | \(f1(ours.tokensPerSecond)) | `\(window.text)` | \(f1(theirs.tokensPerSecond)) | "
                + "\(percent(ours.tokensPerSecond / theirs.tokensPerSecond)) |")
        }
        return lines
    }

    /// Predictions before the cache is full; 0 for dense and recompute.
    private static func capacity(_ config: CacheConfig) -> Int { config.policy.keptTokens ?? 0 }

    private static func f1(_ value: Double) -> String { String(format: "%.1f", value) }
    private static func f2(_ value: Double) -> String { String(format: "%.2f", value) }
    private static func percent(_ value: Double) -> String { String(format: "%.0f%%", value * 100) }
}
