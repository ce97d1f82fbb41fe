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
          streamppl reproduce beyond        (experiments/beyond/*.json into results/beyond/*/)
          streamppl reproduce all
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "Experiment names (files in --experiments without .json; a subfolder's name runs all of its files), or all.")
    var names: [String] = []

    @Option(name: .long, help: "Folder of experiment files.")
    var experiments = "experiments"

    @Option(name: .long, help: "Folder the results go to, one subfolder per experiment.")
    var results = "results"

    @Flag(name: .long, help: "List the experiments and exit.")
    var list = false

    func run() throws {
        let finished: Bool
        do {
            if list || names.isEmpty {
                for name in Experiment.names(in: experiments) { print("\(name)\t\(try Experiment.load(name, from: experiments).title)") }
                return
            }
            let loaded = try Reproduction.experiments(names, in: experiments)
            _ = try modelOptions.openModelFile()
            Interrupt.install()
            let reproduction = Reproduction(model: modelOptions.model, results: results, tools: Reproduction.Tools(attention: attention, latency: latency),
                                            events: TerminalEvents())
            finished = try reproduction.run(loaded, shouldStop: { Interrupt.requested })
        } catch let error as ExitCode { throw error } catch { throw fail(error) }
        if !finished || Interrupt.requested { throw ExitCode(130) }
    }

    /// Figure 2 by `streamppl attention`: its stdout is the table.
    private func attention(_ request: Reproduction.AttentionRequest) throws -> String {
        try subcommand(["attention", "--model", request.model, "--data", request.data, "--sequences", String(request.sequences),
                        "--length", String(request.length), "--out", request.out])
    }

    /// A point of Figure 10 by `streamppl latency --json`, one process per point so that each peak memory is the point's own.
    private func latency(_ request: Reproduction.LatencyRequest) throws -> LatencyMeasurement {
        let json = try subcommand(["latency", "--model", request.model, "--data", request.data, "--cache", request.config,
                                   "--tokens", String(request.tokens), "--json"])
        return try JSONDecoder().decode(LatencyMeasurement.self, from: Data(json.utf8))
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
