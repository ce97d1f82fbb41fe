import ArgumentParser
import Foundation
import StreamPPL

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Stream datasets through a model under one or more cache configs; write per-token NLLs and summaries.",
        discussion: """
        Cache configs (METHOD.md §2): dense | x+y (x attention sinks + y recent tokens) | 0+y (window) | \
        x"s"+y (x copies of the one-token string s as sinks) | recompute:L | recompute:L/S | h2o:H+R | tova:N \
        (METHOD.md §2b: eviction by attention, always one token per forward pass).
        Each (config, dataset) pair is a job with its own stream. Writes DIR/nll.csv.gz, DIR/summary.csv, DIR/summary.md, \
        DIR/memory.csv, DIR/ppl.svg and DIR/run.json.

        Interrupted runs (Ctrl-C, kill -9, power loss) continue with --resume from their last checkpoint \
        (DIR/.streamppl, saved every --checkpoint-interval seconds) and end with the same files as an uninterrupted run.
        --shard K/N runs the jobs whose index is K modulo N (K from 0); `streamppl merge` joins the shards' folders.
        --config FILE reads the same settings from JSON or TOML (keys are the flag names); flags given as well win.
        --jobs N evaluates N jobs side by side with the cores shared out among them (default: one job per core), \
        with the same numbers as one at a time.

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

    @Option(name: .long, help: "Seconds between checkpoints, fractions allowed (default: 60; 0: after every forward pass).")
    var checkpointInterval: Double?

    /// Read as text so that `--jobs -1` reaches the settings check (one line) instead of being taken for a flag.
    @Option(name: .long, parsing: .unconditional,
            help: "Jobs evaluated side by side, the cores shared out among them (default: one per core, at most the run's jobs).")
    var jobs: String?

    @Flag(name: .long, help: "Print a machine-readable summary as JSON on stdout.")
    var json = false

    @Flag(name: .long, help: "Run nothing: print the jobs, the predictions of each and their time and memory on this machine, estimated from a few timed passes (--json: as JSON).")
    var dryRun = false

    func run() throws {
        if dryRun { return try plan() }
        let interrupted: Bool
        do {
            let (request, out) = try resolvedRequest()
            let settings = request.settings
            Interrupt.install()
            let executor = RunExecutor(settings: settings, shard: request.shard, out: out, checkpointInterval: request.checkpointInterval,
                                       parallelJobs: request.parallelJobs, events: TerminalEvents())
            let title = "Perplexity along the stream: " + settings.data.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
                + (settings.repeatCount > 1 ? " (streamed \(settings.repeatCount) times over)" : "")
            let outcome = try executor.execute(resume: request.resume, title: title, shouldStop: { Interrupt.requested })
            interrupted = !outcome.complete
            if json { print(RunSummary(model: settings.model, modelSHA256: outcome.manifest.model.sha256, results: outcome.results).json(out: out)) }
        } catch let error as ExitCode { throw error } catch let error as RunSettingsError where error.origin == .flag {
            throw fail("--\(error.key) must be \(error.expected), found \(error.found)")
        } catch { throw fail(error) }
        if interrupted { throw ExitCode(130) }
    }

    /// `--dry-run`: the plan of the run, printed; nothing is written.
    private func plan() throws {
        do {
            let request = try resolvedSettings()
            let plan = try RunPlan.make(settings: request.settings, shard: request.shard, parallelJobs: request.parallelJobs,
                                        checkpointInterval: request.checkpointInterval)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(plan), as: UTF8.self))
            } else {
                print(plan.markdown, terminator: "")
            }
        } catch let error as ExitCode { throw error } catch let error as RunSettingsError where error.origin == .flag {
            throw fail("--\(error.key) must be \(error.expected), found \(error.found)")
        } catch { throw fail(error) }
    }

    /// Defaults, then the --config file, then the flags given, all read by the library's one schema.
    private func resolvedRequest() throws -> (RunRequest, out: String) {
        let request = try resolvedSettings()
        guard let out = request.out else { throw fail("--out is required (or `out` in the --config file)") }
        return (request, out)
    }

    private func resolvedSettings() throws -> RunRequest {
        let file = try config.map { try ConfigurationFile(path: $0, allowedKeys: RunRequest.keys).given } ?? [:]
        let request = try RunRequest.resolve([file, flagSettings])
        try ModelLocation.checkExists(request.settings.model)
        return request
    }

    /// The flags given, by their settings keys; absent ones leave the file's value or the default.
    private var flagSettings: [String: GivenSetting] {
        let strings = { (texts: [String]) in texts.isEmpty ? nil : ConfigurationValue.array(texts.map(ConfigurationValue.string)) }
        let values: [String: ConfigurationValue?] = [
            "model": model.map(ConfigurationValue.string),
            "data": strings(data),
            "cache": strings(caches),
            "max-tokens": maxTokens.map(ConfigurationValue.integer),
            "repeat": repeats.map(ConfigurationValue.integer),
            "out": out.map(ConfigurationValue.string),
            "exact-token-by-token": exactTokenByToken.map(ConfigurationValue.bool),
            "chunk-size": chunkSize.map(ConfigurationValue.integer),
            "positions": positions.map(ConfigurationValue.string),
            "log-format": logFormat.map(ConfigurationValue.string),
            "resume": resume ? .bool(true) : nil,
            "shard": shard.map(ConfigurationValue.string),
            "checkpoint-interval": checkpointInterval.map(ConfigurationValue.double),
            "jobs": jobs.map { Int($0).map(ConfigurationValue.integer) ?? .string($0) },
        ]
        return values.compactMapValues { $0.map { GivenSetting(value: $0, origin: .flag) } }
    }
}
