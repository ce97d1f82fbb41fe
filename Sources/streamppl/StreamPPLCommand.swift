import ArgumentParser
import Foundation
import StreamPPL

@main
struct StreamPPLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamppl",
        abstract: "Streaming perplexity with attention sinks (StreamingLLM) on GGUF models, on the CPU.",
        discussion: """
        Exit codes: 0 success, 1 bad input or failure (one line on stderr names the file and the problem), \
        130 interrupted (partial results are complete, valid files marked partial in run.json).
        """,
        version: StreamPPLVersion.current,
        subcommands: [RunCommand.self, TokenizeCommand.self, InspectCommand.self, BenchCommand.self])
}

/// Prints `problem` as one line on stderr and gives the exit code to throw: how every subcommand
/// reports bad input (ArgumentParser's own `ValidationError` would add a usage block and exit 64).
func fail(_ problem: Any) -> ExitCode {
    FileHandle.standardError.write(Data("streamppl: error: \(problem)\n".utf8))
    return .failure
}
