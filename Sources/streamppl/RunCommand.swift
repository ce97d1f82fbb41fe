import ArgumentParser
import Foundation
import StreamPPL

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Stream datasets through a model under one or more cache configs; write per-token NLLs and summaries.",
        discussion: """
        Cache configs (METHOD.md §2): dense | x+y (x attention sinks + y recent tokens) | 0+y (window) | \
        x"s"+y (x copies of the one-token string s as sinks) | recompute:L | recompute:L/S.
        Each (config, dataset) pair is a job with its own stream. Writes DIR/nll.csv.gz, DIR/summary.csv, DIR/summary.md, \
        DIR/memory.csv, DIR/ppl.svg and DIR/run.json.

        Interrupted runs (Ctrl-C, kill -9, power loss) continue with --resume from their last checkpoint \
        (DIR/.streamppl, saved every --checkpoint-interval seconds) and end with the same files as an uninterrupted run.
        --shard K/N runs the jobs whose index is K modulo N (K from 0); `streamppl merge` joins the shards' folders.
        --config FILE reads the same settings from JSON or TOML (keys are the flag names); flags given as well win.

        Exit codes: 0 done; 1 bad input or failure (one line on stderr); 130 interrupted (valid partial outputs, \
        "complete": false in run.json; --resume continues).

        Examples:
          streamppl run --cache 0+1024 --cache 4+1020 --cache '4"\\n"+1020' --max-tokens 20000 --out out/table1
          streamppl run --config run.toml --shard $SLURM_ARRAY_TASK_ID/3 --resume --out out/shard-$SLURM_ARRAY_TASK_ID
        """)

    @Option(name: .long, help: "GGUF model file (default: \(RunSettings.defaultModel), fetched by scripts/fetch-model.sh).")
    var model: String?

    @Option(name: .customLong("data"), help: "A folder of *.txt/*.txt.gz books, a .jsonl with a \"text\" field, or one text file; repeat for several (default: \(RunSettings.defaultData)).")
    var data: [String] = []

    @Option(name: .customLong("cache"), parsing: .unconditionalSingleValue, help: "A cache config; repeat for several, each its own stream (default: 4+1020).")
    var caches: [String] = []

    @Option(name: .long, help: "Stop after this many scored predictions per job (default: the whole dataset).")
    var maxTokens: Int?

    @Option(name: .customLong("repeat"), help: "Stream each dataset this many times over, documents numbered on: for streams longer than the corpus (default: 1).")
    var repeats: Int?

    @Option(name: .long, help: "Output folder.")
    var out: String?

    @Flag(name: .long, inversion: .prefixedNo, help: "Feed one token per forward pass with explicit eviction: the definition the fast path is checked against.")
    var exactTokenByToken: Bool?

    @Option(name: .long, help: "Tokens per forward pass on the chunked path (default: 256).")
    var chunkSize: Int?

    @Option(name: .long, help: "Rotary positions: cache (slot ranks, the paper's method) or original (stream positions).")
    var positions: String?

    @Option(name: .long, help: "Per-token log format: gz (nll.csv.gz) or csv (nll.csv).")
    var logFormat: String?

    @Option(name: .long, help: "Read settings from this JSON or TOML file.")
    var config: String?

    @Flag(name: .long, help: "Continue the interrupted run in --out from its last checkpoint (starts afresh when there is none).")
    var resume = false

    @Option(name: .long, help: "Run only shard K of N (jobs whose index is K modulo N, K from 0).")
    var shard: String?

    @Option(name: .long, help: "Seconds between checkpoints (default: 60; 0: after every forward pass).")
    var checkpointInterval: Double?

    @Flag(name: .long, help: "Print a machine-readable summary as JSON on stdout.")
    var json = false

    func run() throws {
        let interrupted: Bool
        do {
            let (settings, options) = try resolvedSettings()
            Interrupt.install()
            let executor = RunExecutor(settings: settings, shard: options.shard, out: options.out,
                                       checkpointInterval: options.checkpointInterval, events: TerminalEvents())
            let title = "Perplexity along the stream: " + settings.data.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
                + (settings.repeatCount > 1 ? " (streamed \(settings.repeatCount) times over)" : "")
            let outcome = try executor.execute(resume: options.resume, title: title, shouldStop: { Interrupt.requested })
            interrupted = !outcome.complete
            if json { print(RunSummary(model: settings.model, modelSHA256: outcome.manifest.model.sha256, results: outcome.results).json(out: options.out)) }
        } catch let error as ExitCode { throw error } catch { throw fail(error) }
        if interrupted { throw ExitCode(130) }
    }

    private struct RunOptions {
        var out: String
        var shard: Shard?
        var resume: Bool
        var checkpointInterval: Double
    }

    /// Defaults, then the --config file, then the flags given.
    private func resolvedSettings() throws -> (RunSettings, RunOptions) {
        var settings = RunSettings()
        var out: String?, shardText: String?, resume = resume, interval = 60.0
        if let config {
            let file = try ConfigurationFile(path: config, allowedKeys: Self.configurationKeys)
            if let value = try file.string("model") { settings.model = value }
            if let value = try file.strings("data") { settings.data = value }
            if let value = try file.strings("cache") { settings.caches = value }
            if let value = try file.integer("max-tokens") { settings.maxTokens = value }
            if let value = try file.integer("repeat") { settings.repeats = value }
            if let value = try file.bool("exact-token-by-token") { settings.exactTokenByToken = value }
            if let value = try file.integer("chunk-size") { settings.chunkSize = value }
            if let value = try file.string("positions") { settings.positions = value }
            if let value = try file.string("log-format") { settings.logFormat = value }
            if let value = try file.integer("checkpoint-interval") { interval = Double(value) }
            if let value = try file.bool("resume") { resume = resume || value }
            out = try file.string("out")
            shardText = try file.string("shard")
        }
        if let model { settings.model = model }
        if !data.isEmpty { settings.data = data }
        if !caches.isEmpty { settings.caches = caches }
        if let maxTokens { settings.maxTokens = maxTokens }
        if let repeats { settings.repeats = repeats }
        if let exactTokenByToken { settings.exactTokenByToken = exactTokenByToken }
        if let chunkSize { settings.chunkSize = chunkSize }
        if let positions { settings.positions = positions }
        if let logFormat { settings.logFormat = logFormat }
        if let checkpointInterval { interval = checkpointInterval }
        out = self.out ?? out
        shardText = shard ?? shardText

        try settings.validate()
        guard let out else { throw fail("--out is required (or `out` in the --config file)") }
        guard interval >= 0 else { throw fail("--checkpoint-interval must be at least 0, found \(interval)") }
        try ModelLocation.checkExists(settings.model)
        return (settings, RunOptions(out: out, shard: try shardText.map(Shard.init), resume: resume, checkpointInterval: interval))
    }

    static let configurationKeys: Set<String> = ["model", "data", "cache", "max-tokens", "repeat", "out", "exact-token-by-token", "chunk-size",
                                                 "positions", "log-format", "resume", "shard", "checkpoint-interval"]
}
