import ArgumentParser
import Foundation
import StreamPPL

struct LatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Measure one point of the paper's Figure 10: per-token decoding latency and memory at one cache size.",
        discussion: """
        x+y (streaming with attention sinks) first streams x+y predictions untimed, one token per forward pass, so the \
        cache is full, then times the next --tokens predictions on that same path. recompute:L (sliding window with \
        re-computation) times --tokens passes from scratch over L tokens, each giving one prediction. Peak memory is \
        the whole process's, so measure one point per process; the resident memory after loading the model is \
        reported too, to tell the model's memory from the policy's.

        Example: streamppl latency --cache recompute:1024 --tokens 64 --json
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, parsing: .unconditional, help: "Cache config: x+y (sinks + window) or recompute:L.")
    var cache: String

    @Option(name: .long, help: "Text to stream (the start of it is used).")
    var data = "datasets/pg19-shakespeare"

    @Option(name: .long, help: "Timed predictions, after the cache has filled.")
    var tokens = 256

    @Flag(name: .long, help: "Print one JSON object on stdout instead of text.")
    var json = false

    func run() throws {
        do {
            let config = try CacheConfig(cache)
            guard tokens > 0 else { throw fail("--tokens: expected a positive whole number, found \(tokens)") }
            // Before the model loads, so a config without a point fails at once.
            _ = try LatencyMeasurement.plan(for: config)
            let gguf = try modelOptions.openModelFile()
            let benchmark = ThroughputBenchmark(evaluator: Evaluator(model: try ModelRegistry.load(gguf), tokenizer: try Tokenizer(gguf: gguf)),
                                                dataset: try Dataset(path: data))
            let point = try benchmark.measureLatency(config, tokens: tokens)
            if json {
                print(try point.json())
            } else {
                print("""
                    \(point.config) (\(point.mode.rawValue), \(point.cacheTokens) cache tokens): \
                    \(String(format: "%.2f", point.millisecondsPerToken)) ms per token, \(String(format: "%.2f", point.tokensPerSecond)) tokens/s \
                    over \(point.tokens) tokens (\(String(format: "%.2f", point.seconds)) s)
                    memory: peak \(megabytes(point.peakResidentBytes)), after loading the model \(megabytes(point.modelResidentBytes))
                    """)
            }
        } catch let error as ExitCode { throw error } catch { throw fail(error) }
    }
}

private func megabytes(_ bytes: Int?) -> String { bytes.map { String(format: "%.0f MB", Double($0) / 1e6) } ?? "unknown" }
