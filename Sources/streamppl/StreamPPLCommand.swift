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
        subcommands: [RunCommand.self, TokenizeCommand.self, InspectCommand.self])
}

/// Prints `error` as one line on stderr and exits non-zero: how every subcommand reports bad input.
func fail(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("streamppl: error: \(error)\n".utf8))
    return .failure
}
