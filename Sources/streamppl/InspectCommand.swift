import ArgumentParser
import Foundation
import StreamPPL

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a GGUF model's architecture, hyper-parameters, tokenizer and tensor types.",
        discussion: "Example: streamppl inspect models/SmolLM2-135M-Instruct.Q4_1.gguf")

    @Argument(help: "GGUF model file.")
    var model: String = RunSettings.defaultModel

    @Flag(name: .long, help: "Also list every metadata key and every tensor.")
    var all = false

    func run() throws {
        do {
            let gguf = try GGUFFile(path: model)
            var lines = ["file: \(model) (\(gguf.fileSize) bytes, GGUF v\(gguf.version))"]
            if let architecture = gguf.string("general.architecture"), ModelRegistry.architecture(named: architecture) == nil {
                // Say what the file is before the error that it cannot be run.
                print((lines + ["architecture: \(architecture.escapingControlCharacters)  supported: no"]).joined(separator: "\n"))
                throw ModelError.unsupportedArchitecture(path: model, architecture: architecture)
            }
            let config = try ModelConfig(gguf: gguf)
            lines += [
                "architecture: \(config.architecture)  supported: yes  name: \(config.name.escapingControlCharacters)",
                "layers: \(config.layerCount)  embedding: \(config.embeddingSize)  feed-forward: \(config.feedForwardSize)",
                "heads: \(config.headCount)  kv heads: \(config.keyValueHeadCount)  head size: \(config.headSize)",
                "context length: \(config.contextLength)  rope base: \(config.ropeBase)  rope dims: \(config.ropeDimensions)  norm eps: \(config.normEpsilon)",
                "vocabulary: \(config.vocabularySize)",
            ]
            let tokenizer = try Tokenizer(gguf: gguf)
            lines.append("tokenizer: \(gguf.string("tokenizer.ggml.model")?.escapingControlCharacters ?? "?") pre=\(gguf.string("tokenizer.ggml.pre")?.escapingControlCharacters ?? "-") "
                + "vocab=\(tokenizer.vocabularySize) bos=\(tokenizer.bosID.map(String.init) ?? "-") eos=\(tokenizer.eosID.map(String.init) ?? "-") "
                + "adds BOS: \(tokenizer.addsBOS)")
            var counts: [String: (tensors: Int, elements: Int, bytes: Int)] = [:]
            for tensor in gguf.tensors {
                let entry = counts[tensor.type.name, default: (0, 0, 0)]
                counts[tensor.type.name] = (entry.tensors + 1, entry.elements + tensor.elementCount, entry.bytes + tensor.byteCount)
            }
            let parameters = gguf.tensors.reduce(0) { $0 + $1.elementCount }
            lines.append("tensors: \(gguf.tensors.count), \(parameters) parameters")
            for (type, entry) in counts.sorted(by: { $0.key < $1.key }) {
                lines.append("  \(type): \(entry.tensors) tensors, \(entry.elements) elements, \(entry.bytes) bytes")
            }
            if all {
                lines.append("metadata:")
                for key in gguf.metadataKeys { lines.append("  \(key.escapingControlCharacters) = \(gguf.metadata[key]?.summary ?? "")") }
                lines.append("tensors:")
                for tensor in gguf.tensors { lines.append("  \(tensor.name.escapingControlCharacters) \(tensor.type.name) \(tensor.dimensions)") }
            }
            print(lines.joined(separator: "\n"))
        } catch { throw fail(error) }
    }
}
