import ArgumentParser
import Foundation
import StreamPPL

@main
struct StreamPPLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamppl",
        abstract: "Streaming perplexity with attention sinks (StreamingLLM) on GGUF models, on the CPU.",
        discussion: """
        Exit codes (every subcommand): 0 success; 1 bad input or failure, with one line on stderr naming the file \
        and the problem (compare: a regression); 2 compare only: the summaries are not comparable; 64 a malformed \
        command line; 130 interrupted (run, reproduce: partial results are complete, valid files marked partial \
        in run.json; --resume continues).
        """,
        version: StreamPPLVersion.current,
        subcommands: [RunCommand.self, TokenizeCommand.self, InspectCommand.self, CompareCommand.self, MergeCommand.self, ReproduceCommand.self,
                      AttentionCommand.self, LatencyCommand.self, BenchCommand.self])
}

/// Prints `problem` as one line on stderr and gives the exit code to throw: how every subcommand
/// reports bad input (ArgumentParser's own `ValidationError` would add a usage block and exit 64).
func fail(_ problem: Any) -> ExitCode {
    FileHandle.standardError.write(Data("streamppl: error: \(problem)\n".utf8))
    return .failure
}

/// `fail` with another exit code, for a command whose codes tell failures apart (compare: 2 = not comparable).
func fail(_ problem: Any, exitCode: Int32) -> ExitCode {
    _ = fail(problem)
    return ExitCode(exitCode)
}
