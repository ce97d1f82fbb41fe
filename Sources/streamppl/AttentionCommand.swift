import ArgumentParser
import Foundation
import StreamPPL

struct AttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Average attention maps per layer over short sequences (the paper's Figure 2): where the attention sink appears.",
        discussion: """
        Takes the dataset's token stream (documents in order, as `run` feeds them) and cuts --sequences non-overlapping \
        windows of --length consecutive tokens, starting at evenly spaced offsets over the first \
        min(stream length, \(AttentionSequences.defaultSpan)) tokens. Each window is fed from scratch in one forward pass \
        (positions 0..length-1, dense causal attention); the softmax probabilities are averaged over all heads and windows.
        Writes DIR/attention.csv (layer,query,key,weight; key <= query), DIR/first_token.csv (per layer, the mean weight \
        on token 0 over all queries and over queries 1..length-1), DIR/attention.svg (one log-scale heatmap per layer) \
        and prints the per-layer weight on token 0.

        Example: streamppl attention --sequences 256 --length 16 --out results/fig2
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "A folder of *.txt/*.txt.gz books, a .jsonl with a \"text\" field, or one text file.")
    var data = "datasets/pg19-shakespeare"

    @Option(name: .long, help: "Number of sequences to average over.")
    var sequences = 256

    @Option(name: .long, help: "Tokens per sequence.")
    var length = 16

    @Option(name: .long, help: "Output folder.")
    var out: String

    func validate() throws {
        guard sequences >= 1 else { throw fail("--sequences must be at least 1, found \(sequences)") }
        guard length >= 2 else { throw fail("--length must be at least 2 (query 1 is the first that can choose), found \(length)") }
    }

    func run() throws {
        do {
            let gguf = try modelOptions.openModelFile()
            let model = try ModelRegistry.load(gguf)
            let tokenizer = try Tokenizer(gguf: gguf)
            guard length <= model.config.contextLength else {
                throw fail("--length \(length) exceeds the model's training context of \(model.config.contextLength) tokens")
            }
            let dataset = try Dataset(path: data)
            let sample = try AttentionSequences(dataset: dataset, tokenize: tokenizer.encodeDocument, count: sequences, length: length)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)

            let map = AttentionMap(model: model, sequences: sample.tokens) { done in
                if done % 64 == 0 || done == sequences {
                    FileHandle.standardError.write(Data("attention: \(done)/\(sequences) sequences\n".utf8))
                }
            }

            func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
            let modelName = model.config.name.isEmpty ? (modelOptions.model as NSString).lastPathComponent : model.config.name
            try DurableFile.write(AttentionHeatmap.attentionCSV(map), to: path("attention.csv"))
            try DurableFile.write(AttentionHeatmap.firstTokenCSV(map), to: path("first_token.csv"))
            try DurableFile.write(AttentionHeatmap.svg(map, title: "Average attention per layer: \(modelName)",
                                                       subtitle: "\(sample.summary) (\((data as NSString).lastPathComponent)), "
                                                           + "each fed from position 0; mean over heads and sequences"),
                                  to: path("attention.svg"))
            print(table(map))
        } catch let error as ExitCode { throw error } catch { throw fail(error) }
    }

    /// The headline per layer: how much of queries 1..length-1's attention lands on token 0.
    private func table(_ map: AttentionMap) -> String {
        var lines = ["layer  weight on token 0 (queries 1..\(length - 1))  (all queries)"]
        for layer in 0 ..< map.layerCount {
            let excludingQuery0 = map.meanWeightOnFirstToken(layer: layer, fromQuery: 1)
            let bar = String(repeating: "#", count: Int((excludingQuery0 * 40).rounded()))
            lines.append(String(format: "%5d  %6.3f ", layer, excludingQuery0) + bar.padding(toLength: 40, withPad: " ", startingAt: 0)
                + String(format: "  (%.3f)", map.meanWeightOnFirstToken(layer: layer, fromQuery: 0)))
        }
        lines.append(String(format: "Attention spread evenly over the keys would give %.3f.", map.uniformWeightOnFirstToken))
        return lines.joined(separator: "\n")
    }
}
