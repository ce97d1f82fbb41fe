import ArgumentParser
import Foundation
import StreamPPL

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Stream a dataset through a model under one or more cache configs; write per-token NLLs and summaries.",
        discussion: """
        Cache configs (SPEC §2): dense | x+y (x attention sinks + y recent tokens) | 0+y (window) | \
        x"s"+y (x copies of the one-token string s as sinks) | recompute:L | recompute:L/S.
        Writes DIR/nll.csv.gz, DIR/summary.csv, DIR/summary.md, DIR/run.json.

        Example: streamppl run --data datasets/pg19-shakespeare --cache 0+1024 --cache 4+1020 --cache '4"\\n"+1020' --max-tokens 20000 --out out/table1
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "A folder of *.txt/*.txt.gz books, a .jsonl with a \"text\" field, or one text file.")
    var data = "datasets/pg19-shakespeare"

    @Option(name: .customLong("cache"), parsing: .unconditionalSingleValue, help: "A cache config; repeat for several, each its own stream.")
    var caches: [String] = ["4+1020"]

    @Option(name: .long, help: "Stop after this many scored predictions per config (default: the whole dataset).")
    var maxTokens: Int?

    @Option(name: .long, help: "Output folder.")
    var out: String

    @Flag(name: .long, help: "Feed one token per forward pass with explicit eviction: the definition the fast path is checked against.")
    var exactTokenByToken = false

    @Option(name: .long, help: "Tokens per forward pass on the chunked path.")
    var chunkSize = 256

    @Option(name: .long, help: "Rotary positions: cache (slot ranks, the paper's method) or original (stream positions).")
    var positions = "cache"

    @Option(name: .long, help: "Per-token log format: gz (nll.csv.gz) or csv (nll.csv).")
    var logFormat = "gz"

    static let memorySampleInterval = 8192

    func validate() throws {
        for text in caches {
            do { _ = try CacheConfig(text) } catch { throw fail("--cache: \(error)") }
        }
        if let maxTokens, maxTokens < 1 { throw fail("--max-tokens must be at least 1, found \(maxTokens)") }
        guard chunkSize >= 1 else { throw fail("--chunk-size must be at least 1, found \(chunkSize)") }
        guard PositionMode(rawValue: positions) != nil else { throw fail("--positions must be cache or original, found '\(positions)'") }
        guard ["gz", "csv"].contains(logFormat) else { throw fail("--log-format must be gz or csv, found '\(logFormat)'") }
    }

    func run() throws {
        let started = Date()
        let interrupted: Bool
        do {
            let configs = try caches.map { try CacheConfig($0) }
            let dataset = try Dataset(path: data)
            let gguf = try modelOptions.openModelFile()
            let tokenizer = try Tokenizer(gguf: gguf)
            let evaluator = Evaluator(model: try LlamaModel(gguf: gguf), tokenizer: tokenizer)
            let options = EvaluationOptions(maxPredictions: maxTokens ?? .max, chunkSize: chunkSize,
                                            exactTokenByToken: exactTokenByToken, positions: PositionMode(rawValue: positions) ?? .cache)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let log = try NLLLog(directory: out, compressed: logFormat == "gz")
            defer { log.discardIfUnfinished() }
            Interrupt.install()

            var results: [ConfigResult] = []
            // Resident memory along the stream: it must stay flat (bounded by model + cache, not stream length).
            var memory = "config,predictions,rss_bytes\n"
            for config in configs where !Interrupt.requested {
                let progress = ProgressReporter(label: config.text, total: maxTokens)
                var statistics = NLLStatistics()
                let configStart = Date()
                let stopped = try evaluator.evaluate(config, dataset: dataset, options: options, shouldStop: { Interrupt.requested }) { prediction in
                    statistics.add(prediction.nll)
                    try log.append(config: config.text, prediction)
                    progress.update(predictions: statistics.count, meanNLL: statistics.meanNLL)
                    if statistics.count % Self.memorySampleInterval == 0, let rss = MachineInfo.residentBytes() {
                        memory += "\(NLLLog.csvField(config.text)),\(statistics.count),\(rss)\n"
                    }
                }
                progress.finish(predictions: statistics.count, meanNLL: statistics.meanNLL)
                results.append(ConfigResult(config: config.text, statistics: statistics, seconds: Date().timeIntervalSince(configStart),
                                            peakResidentBytes: MachineInfo.peakResidentBytes(), complete: !stopped))
            }
            interrupted = Interrupt.requested
            try log.finish()

            let summary = RunSummary(model: modelOptions.model, data: data, results: results)
            try AtomicFile.write(summary.csv, to: (out as NSString).appendingPathComponent("summary.csv"))
            try AtomicFile.write(summary.markdown, to: (out as NSString).appendingPathComponent("summary.md"))
            try AtomicFile.write(memory, to: (out as NSString).appendingPathComponent("memory.csv"))
            try AtomicFile.write(PerplexityPlot.svg(results: results, title: "Perplexity along the stream: \((data as NSString).lastPathComponent)"),
                                 to: (out as NSString).appendingPathComponent("ppl.svg"))
            let manifest = RunManifest(
                version: StreamPPLVersion.current, command: CommandLine.arguments,
                model: .init(path: modelOptions.model, sha256: try SHA256.hexDigest(ofFile: modelOptions.model)),
                data: data,
                dataFiles: try dataset.files.map { .init(path: $0, sha256: try SHA256.hexDigest(ofFile: $0)) },
                configs: caches,
                options: ["max_tokens": maxTokens.map(String.init) ?? "all", "chunk_size": String(chunkSize),
                          "exact_token_by_token": String(exactTokenByToken), "positions": positions, "log_format": logFormat,
                          "precision": "float32 activations, KV cache and logits; float64 NLL accumulation"],
                started: started, finished: Date(), complete: !interrupted && results.allSatisfy(\.complete))
            try manifest.write(to: (out as NSString).appendingPathComponent("run.json"))
        } catch let error as ExitCode { throw error } catch { throw fail(error) }
        if interrupted { throw ExitCode(130) }
    }
}
