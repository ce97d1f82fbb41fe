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
            let settings = BenchSettings(caches: try caches.split(separator: ",").map { try CacheConfig(String($0)) },
                                         chunkSizes: try Self.positiveIntegers(chunkSizes, flag: "--chunk-sizes"), tokens: tokens,
                                         exactTokens: exactTokens, recompute: try Self.positiveIntegers(recompute, flag: "--recompute"),
                                         recomputePasses: recomputePasses)
            try settings.validate()
            let text = try BenchReport.markdown(gguf: try modelOptions.openModelFile(), modelPath: modelOptions.model, data: data,
                                                settings: settings, events: TerminalEvents())
            print(text)
            if let markdown { try DurableFile.write(text, to: markdown) }
        } catch let error as ExitCode { throw error } catch { throw fail(error) }
    }

    /// A comma-separated list of positive whole numbers; anything else is an error, not a value left out.
    private static func positiveIntegers(_ text: String, flag: String) throws -> [Int] {
        try text.split(separator: ",").map { item in
            guard let value = Int(item.trimmingCharacters(in: .whitespaces)), value > 0 else {
                throw fail("\(flag): expected positive whole numbers, found '\(text)'")
            }
            return value
        }
    }
}
