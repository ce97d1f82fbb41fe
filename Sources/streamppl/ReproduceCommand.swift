import ArgumentParser
import Foundation
import StreamPPL

struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Redo the paper's experiments (experiments/NAME.json) into results/NAME/.",
        discussion: """
        Stream experiments keep their jobs in RESULTS/.jobs: an interrupted reproduction continues where it stopped, \
        and a job that already ran over a longer stream serves the experiments that need a prefix of it (the first \
        N predictions of a stream do not depend on where it stops). `all` runs the longest experiments first for that \
        reason. Attention (Figure 2) and latency (Figure 10) experiments run `streamppl attention` and one \
        `streamppl latency` process per point.

        Exit codes: 0 done; 1 bad input or failure (one line on stderr); 130 interrupted (rerun to continue).

        Examples:
          streamppl reproduce --list
          streamppl reproduce table1
          streamppl reproduce all
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "Experiment names (files in --experiments without .json), or all.")
    var names: [String] = []

    @Option(name: .long, help: "Folder of experiment files.")
    var experiments = "experiments"

    @Option(name: .long, help: "Folder the results go to, one subfolder per experiment.")
    var results = "results"

    @Flag(name: .long, help: "List the experiments and exit.")
    var list = false

    func run() throws {
        do {
            let available = Experiment.names(in: experiments)
            if list || names.isEmpty {
                for name in available { print("\(name)\t\(try Experiment.load(name, from: experiments).title)") }
                return
            }
            let wanted = names == ["all"] ? available : names
            var loaded = try wanted.map { try Experiment.load($0, from: experiments) }
            // Longest first: shorter ones then read prefixes of the same jobs.
            loaded.sort { ($0.stream.maxTokens ?? .max) > ($1.stream.maxTokens ?? .max) }
            _ = try modelOptions.openModelFile()
            Interrupt.install()
            for experiment in loaded where !Interrupt.requested {
                FileHandle.standardError.write(Data("reproduce: \(experiment.name): \(experiment.title)\n".utf8))
                let out = (results as NSString).appendingPathComponent(experiment.name)
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let summary: String
                switch experiment.kind {
                case .stream:
                    let executor = RunExecutor(settings: experiment.settings(model: modelOptions.model), out: out,
                                               placement: .store((results as NSString).appendingPathComponent(".jobs")))
                    _ = try executor.execute(resume: true, title: experiment.title, shouldStop: { Interrupt.requested })
                    summary = try String(contentsOfFile: (out as NSString).appendingPathComponent("summary.md"), encoding: .utf8)
                case .attention:
                    let table = try subcommand(["attention", "--model", modelOptions.model, "--data", experiment.firstDataset,
                                                "--sequences", String(experiment.sequences ?? 256), "--length", String(experiment.length ?? 16),
                                                "--out", out])
                    summary = "```\n" + table + "```\n"
                case .latency:
                    summary = try measureLatency(experiment, out: out)
                }
                guard !Interrupt.requested else { break }
                try AtomicFile.write("# \(experiment.title)\n\n" + (experiment.notes.map { $0 + "\n\n" } ?? "")
                    + "Made by `streamppl reproduce \(experiment.name)` from `experiments/\(experiment.name).json`.\n\n" + summary,
                    to: (out as NSString).appendingPathComponent("summary.md"))
            }
        } catch let error as ExitCode { throw error } catch { throw fail(error) }
        if Interrupt.requested { throw ExitCode(130) }
    }

    /// Figure 10: one `latency` process per point, so that each peak memory is the point's own.
    private func measureLatency(_ experiment: Experiment, out: String) throws -> String {
        var points: [LatencySweep.Point] = []
        for (size, recomputeTokens) in zip(experiment.cacheSizes ?? [], experiment.recomputeTokens ?? []) where !Interrupt.requested {
            let configs = LatencySweep.configs(cacheSize: size)
            func measure(_ config: String, tokens: Int) throws -> LatencyMeasurement {
                let json = try subcommand(["latency", "--model", modelOptions.model, "--data", experiment.firstDataset,
                                           "--cache", config, "--tokens", String(tokens), "--json"])
                return try JSONDecoder().decode(LatencyMeasurement.self, from: Data(json.utf8))
            }
            let point = LatencySweep.Point(cacheSize: size, recompute: try measure(configs.recompute, tokens: recomputeTokens),
                                           streaming: try measure(configs.streaming, tokens: experiment.tokens ?? 256))
            FileHandle.standardError.write(Data(String(format: "reproduce: L=%d: %.1f vs %.1f ms per token, %.1fx\n", size,
                                                       point.recompute.millisecondsPerToken, point.streaming.millisecondsPerToken,
                                                       point.speedup).utf8))
            points.append(point)
        }
        let sweep = LatencySweep(points: points)
        func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
        try AtomicFile.write(sweep.csv, to: path("latency.csv"))
        try AtomicFile.write(sweep.latencySVG, to: path("latency.svg"))
        try AtomicFile.write(sweep.memorySVG, to: path("memory.svg"))
        return "Machine: \(MachineInfo.description)\n\n" + sweep.markdown
    }

    /// Runs this executable with `arguments` (its stderr passes through); returns its stdout.
    private func subcommand(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw fail("streamppl \(arguments.joined(separator: " ")) failed with exit code \(process.terminationStatus)")
        }
        return String(decoding: stdout, as: UTF8.self)
    }
}
