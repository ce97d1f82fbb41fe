import ArgumentParser
import Foundation
import StreamPPL

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text file tokenized as one document (BOS only if the model adds it), one per line.",
        discussion: "Example: streamppl tokenize --model models/SmolLM2-135M-Instruct.Q4_1.gguf --text book.txt > book.ids")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "UTF-8 text file (.gz is decompressed).")
    var text: String

    func run() throws {
        do {
            let tokenizer = try Tokenizer(gguf: try modelOptions.openModelFile())
            let document = try Dataset(path: text)
            let ids = tokenizer.encodeDocument(try document.text(ofDocument: 0))
            var output = ""
            output.reserveCapacity(ids.count * 6)
            for id in ids { output += "\(id)\n" }
            FileHandle.standardOutput.write(Data(output.utf8))
        } catch let error as ExitCode { throw error } catch { throw fail(error) }
    }
}
