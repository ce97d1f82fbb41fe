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
                      AttentionCommand.self, LatencyCommand.self, BenchCommand.self, GenerateCommand.self])
}

/// Prints `problem` as one line on stderr and gives the exit code to throw: how every subcommand
/// reports bad input (ArgumentParser's own `ValidationError` would add a usage block and exit 64).
func fail(_ problem: Any) -> ExitCode {
    FileHandle.standardError.write(Data("streamppl: error: \(line(for: problem))\n".utf8))
    return .failure
}

/// The library's errors name settings, never flags; where the way out is a flag, the CLI's line says which.
private func line(for problem: Any) -> String {
    switch problem {
    case let error as AttentionMapError: "\(error) (use fewer --sequences or a shorter --length)"
    case let error as ReproductionError: "\(error) (`streamppl reproduce --list` lists them)"
    case let error as RunFolderError: "\(error); resume it with the same ones or choose another --out"
    case let BenchError.invalid(setting, found, expected): "--\(setting): expected \(expected), found \(found)"
    default: "\(problem)"
    }
}

/// `fail` with another exit code, for a command whose codes tell failures apart (compare: 2 = not comparable).
func fail(_ problem: Any, exitCode: Int32) -> ExitCode {
    _ = fail(problem)
    return ExitCode(exitCode)
}
