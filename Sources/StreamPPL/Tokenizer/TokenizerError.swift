/// Why a tokenizer could not be built from a GGUF file's `tokenizer.ggml.*` metadata.
/// Every message names the file, the key and what was wrong.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// A required key is absent or has another type than expected.
    case missingKey(path: String, key: String, expected: String)
    /// A key is present but its value cannot be used.
    case invalidMetadata(path: String, key: String, detail: String)
    /// `tokenizer.ggml.model` names a tokenizer family this project does not implement.
    case unsupportedModel(path: String, model: String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer (word splitter) this project does not implement.
    case unknownPreTokenizer(path: String, pre: String)
    /// Two vocabulary entries have the same bytes (llama.cpp refuses such a vocabulary too).
    case duplicateToken(path: String, text: String, firstID: Int, secondID: Int)

    public var description: String {
        switch self {
        case let .missingKey(path, key, expected):
            "\(path): metadata key '\(key)' is missing or not \(expected)"
        case let .invalidMetadata(path, key, detail):
            "\(path): metadata key '\(key)': \(detail)"
        case let .unsupportedModel(path, model):
            "\(path): tokenizer.ggml.model '\(model)' is not supported; supported: 'gpt2' (byte-level BPE), 'llama' (SentencePiece)"
        case let .unknownPreTokenizer(path, pre):
            "\(path): tokenizer.ggml.pre '\(pre)' is not supported; supported: "
                + PreTokenizer.supportedNames.map { "'\($0)'" }.joined(separator: ", ")
        case let .duplicateToken(path, text, firstID, secondID):
            "\(path): tokenizer.ggml.tokens has '\(text)' twice, at ids \(firstID) and \(secondID)"
        }
    }
}
