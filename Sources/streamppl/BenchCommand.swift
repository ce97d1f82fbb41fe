import ArgumentParser
import Foundation
import StreamPPL

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure evaluation speed against the machine's own sgemm throughput, and where the time goes.",
        discussion: """
        Prints a Markdown report: sgemm GFLOP/s measured in the same run; for each cache config and chunk size the \
        chunked path's tokens/s, useful GFLOP/s and their ratio to sgemm; the token-by-token path's tokens/s and the \
        speedup; batched re-computation; a per-operation breakdown; peak memory.

        Example: streamppl bench --caches 4+252,4+1020,4+4092 --chunk-sizes 128,256,512 --markdown results/bench.md
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Text to stream (the start of it is used).")
    var data = "datasets/pg19-shakespeare"

    @Option(name: .long, parsing: .unconditional, help: "Comma-separated cache configs.")
    var caches = "4+252,4+1020,4+4092"

    @Option(name: .long, help: "Comma-separated chunk sizes for the chunked path.")
    var chunkSizes = "64,128,256,512"

    @Option(name: .long, help: "Timed predictions per chunked measurement, after the cache has filled.")
    var tokens = 2048

    @Option(name: .long, help: "Timed predictions per token-by-token measurement, after the cache has filled.")
    var exactTokens = 128

    @Option(name: .long, help: "Comma-separated window lengths L of recompute:L to time (one batched pass per prediction).")
    var recompute = "256,1024"

    @Option(name: .long, help: "Passes per recompute measurement.")
    var recomputePasses = 8

    @Option(name: .long, help: "Also write the report to this file.")
    var markdown: String?

    func run() throws {
        do {
            let configs = try caches.split(separator: ",").map { try CacheConfig(String($0)) }
            let recomputeLengths = recompute.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
            let passSizes = chunkSizes.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
            guard !passSizes.isEmpty else { throw fail("--chunk-sizes: expected positive whole numbers, found '\(chunkSizes)'") }
            let gguf = try modelOptions.openModelFile()
            let started = Date()
            let model = try LlamaModel(gguf: gguf)
            let loadSeconds = Date().timeIntervalSince(started)
            let benchmark = ThroughputBenchmark(evaluator: Evaluator(model: model, tokenizer: try Tokenizer(gguf: gguf)),
                                                dataset: try Dataset(path: data))
            let sgemm = SGEMMProbe.gigaflops()
            var report = [
                "# streamppl bench", "",
                "Machine: \(MachineInfo.description)  ",
                "Model: `\(modelOptions.model)` (\(model.config.name)), data: `\(data)`  ",
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
            var bestChunked: [String: ThroughputMeasurement] = [:]
            for config in configs {
                for passSize in passSizes {
                    let m = try benchmark.measure(config, predictions: tokens, warmup: Self.capacity(config), passSize: passSize)
                    report.append("| `\(config.text)` | \(passSize) | \(f1(m.tokensPerSecond)) | \(f1(m.gigaflops)) | \(percent(m.gigaflops / sgemm)) |")
                    progress(report.last ?? "")
                    if m.tokensPerSecond > bestChunked[config.text]?.tokensPerSecond ?? 0 { bestChunked[config.text] = m }
                }
            }
            report += ["", "## Token-by-token path (\(exactTokens) predictions, one token per forward pass) vs. the best chunk size", "",
                       "| cache | token-by-token tokens/s | chunked tokens/s (chunk) | speedup |", "|---|---:|---:|---:|"]
            for config in configs {
                let exact = try benchmark.measure(config, predictions: exactTokens, warmup: Self.capacity(config), passSize: 1, exact: true)
                let best = bestChunked[config.text]
                report.append("| `\(config.text)` | \(f1(exact.tokensPerSecond)) | \(f1(best?.tokensPerSecond ?? .nan)) (\(best?.passSize ?? 0)) | "
                    + "\(f1((best?.tokensPerSecond ?? .nan) / exact.tokensPerSecond))x |")
                progress(report.last ?? "")
            }
            report += ["", "## Sliding window with re-computation: one batched pass from scratch over L tokens per prediction", "",
                       "| config | tokens/s | ms per token | useful GFLOP/s |", "|---|---:|---:|---:|"]
            for length in recomputeLengths {
                let m = try benchmark.measureRecompute(length: length, repetitions: recomputePasses)
                report.append("| `recompute:\(length)` | \(f2(m.tokensPerSecond)) | \(f1(1000 / m.tokensPerSecond)) | \(f1(m.gigaflops)) |")
                progress(report.last ?? "")
            }
            let middle = configs[configs.count / 2]
            let chunk = bestChunked[middle.text]?.passSize ?? passSizes[0]
            for (title, exact, count) in [("chunked, chunk \(chunk)", false, tokens), ("token-by-token", true, exactTokens)] {
                let profile = ForwardProfile()
                let m = try benchmark.measure(middle, predictions: count, warmup: Self.capacity(middle), passSize: exact ? 1 : chunk,
                                              exact: exact, profile: profile)
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
            let text = report.joined(separator: "\n")
            print(text)
            if let markdown { try AtomicFile.write(text, to: markdown) }
        } catch let error as ExitCode { throw error } catch { throw fail(error) }
    }

    /// Predictions before the cache is full (sinks + window); 0 for dense and recompute.
    private static func capacity(_ config: CacheConfig) -> Int {
        if case let .sinkWindow(sinks, window, _) = config.policy { sinks + window } else { 0 }
    }

    private func progress(_ line: String) {
        FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
    }
}

private func f1(_ value: Double) -> String { String(format: "%.1f", value) }
private func f2(_ value: Double) -> String { String(format: "%.2f", value) }
private func percent(_ value: Double) -> String { String(format: "%.0f%%", value * 100) }
