/// Tokenizes text exactly as llama.cpp does for the same GGUF file, from its `tokenizer.ggml.*`
/// metadata (vocabulary, merges or scores, token types, special ids and flags).
///
/// Two families are implemented, chosen by `tokenizer.ggml.model`:
/// - `gpt2`: byte-level BPE. Text is split into words by the pre-tokenizer named in
///   `tokenizer.ggml.pre` (see `PreTokenizer`), then each word's bytes are merged by rank.
/// - `llama`: SentencePiece-style (LLaMA 1/2, Gemma 3): score-driven merges with `<0xXX>` byte
///   fallback, spaces written as U+2581.
///
/// `encode` is llama.cpp's `tokenize(add_special = false, parse_special = false)`: special tokens'
/// text in the input is not turned into special tokens (but user-defined tokens are; see
/// `SpecialTokenSplitter`).
public struct Tokenizer: Sendable {
    /// llama.cpp's token types (`tokenizer.ggml.token_type`).
    enum TokenType: Int, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    private enum Engine: Sendable {
        case bytePair(BytePairEncoder, PreTokenizer)
        case sentencePiece(SentencePieceEncoder)
    }

    private let engine: Engine
    private let tokens: TokenTextIndex
    private let tokenTexts: [String]
    private let tokenTypes: [TokenType]
    private let specialTokenSplitter: SpecialTokenSplitter
    /// The same with control and unknown tokens matched too: llama.cpp's `parse_special = true`, for chat templates.
    private let controlTokenSplitter: SpecialTokenSplitter
    /// SentencePiece only: put a space before text at the start and after a special token.
    private let addsSpacePrefix: Bool

    public let bosID: Int32?
    public let eosID: Int32?
    /// `tokenizer.ggml.add_bos_token`; when absent, llama.cpp's default (SentencePiece and Llama 3
    /// BPE: true, other BPE: false).
    public let addsBOS: Bool
    /// `tokenizer.ggml.model`, e.g. "gpt2" or "llama".
    public let modelName: String
    /// `tokenizer.ggml.pre` when the model uses one.
    public let preTokenizerName: String?

    public var vocabularySize: Int { tokenTexts.count }

    public init(gguf: GGUFFile) throws(TokenizerError) {
        let path = gguf.path
        guard let model = gguf.string("tokenizer.ggml.model") else {
            throw .missingKey(path: path, key: "tokenizer.ggml.model", expected: "a string")
        }
        guard let texts = gguf.stringArray("tokenizer.ggml.tokens"), !texts.isEmpty else {
            throw .missingKey(path: path, key: "tokenizer.ggml.tokens", expected: "a non-empty array of strings")
        }
        modelName = model
        tokenTexts = texts
        tokenTypes = try Self.readTokenTypes(gguf, count: texts.count)

        var index = TokenTextIndex(expectedCount: texts.count)
        for (id, text) in texts.enumerated() {
            // llama.cpp renames empty entries so that they cannot match anything.
            let bytes = text.isEmpty ? Array("[EMPTY_\(id)]".utf8) : Array(text.utf8)
            if let first = index.append(bytes) {
                throw .duplicateToken(path: path, text: text, firstID: Int(first), secondID: id)
            }
        }
        tokens = index

        let count = texts.count
        // The default only when the key is absent: an id outside the vocabulary is an error, not replaced.
        func specialID(_ key: String, default fallback: Int?) throws(TokenizerError) -> Int32? {
            if let value = gguf.metadata[key] {
                guard let id = value.intValue, (0 ..< count).contains(id) else {
                    throw .invalidMetadata(path: path, key: key, detail: "is \(value.summary), expected a token id from 0 to \(count - 1)")
                }
                return Int32(id)
            }
            if let fallback, (0 ..< count).contains(fallback) { return Int32(fallback) }
            return nil
        }

        let defaultAddsBOS: Bool
        switch model {
        case "gpt2":
            // llama.cpp falls back to its "default" expressions when the key is absent (GPT-NeoX conversions).
            let pre = gguf.string("tokenizer.ggml.pre") ?? "default"
            guard let preTokenizer = PreTokenizer(name: pre) else { throw .unknownPreTokenizer(path: path, pre: pre) }
            guard let merges = gguf.stringArray("tokenizer.ggml.merges") else {
                throw .missingKey(path: path, key: "tokenizer.ggml.merges", expected: "an array of strings")
            }
            // Llama 3 also takes a word that is itself a token whole (llama.cpp's `ignore_merges`).
            let isLlama3 = preTokenizer.kind == .llama3
            engine = .bytePair(BytePairEncoder(tokens: index, mergeLines: merges, ignoresMerges: isLlama3), preTokenizer)
            preTokenizerName = pre
            defaultAddsBOS = isLlama3
            addsSpacePrefix = false
            // llama.cpp's BPE defaults (11) are arbitrary; without metadata there is no BOS/EOS.
            bosID = try specialID("tokenizer.ggml.bos_token_id", default: nil)
            eosID = try specialID("tokenizer.ggml.eos_token_id", default: nil)
        case "llama":
            let scores: [Float]
            if gguf.metadata["tokenizer.ggml.scores"] == nil {
                scores = [Float](repeating: 0, count: count)
            } else {
                guard let values = gguf.floatArray("tokenizer.ggml.scores"), values.count >= count else {
                    throw .invalidMetadata(path: path, key: "tokenizer.ggml.scores",
                                           detail: "expected an array of at least \(count) numbers, one per token")
                }
                scores = values
            }
            let unknownID = try specialID("tokenizer.ggml.unknown_token_id", default: 0)
            let encoder = SentencePieceEncoder(tokens: index, scores: scores, unknownID: unknownID)
            engine = .sentencePiece(encoder)
            preTokenizerName = gguf.string("tokenizer.ggml.pre")
            defaultAddsBOS = true
            addsSpacePrefix = gguf.bool("tokenizer.ggml.add_space_prefix") ?? true
            bosID = try specialID("tokenizer.ggml.bos_token_id", default: 1)
            eosID = try specialID("tokenizer.ggml.eos_token_id", default: 2)
        default:
            throw .unsupportedModel(path: path, model: model)
        }

        addsBOS = gguf.bool("tokenizer.ggml.add_bos_token") ?? defaultAddsBOS
        if addsBOS, bosID == nil {
            throw .invalidMetadata(path: path, key: "tokenizer.ggml.add_bos_token",
                                   detail: "is true but tokenizer.ggml.bos_token_id is missing or out of range")
        }
        let matched = Self.tokensMatchedInText(texts, tokenTypes), types = tokenTypes
        specialTokenSplitter = SpecialTokenSplitter(tokens: matched)
        controlTokenSplitter = SpecialTokenSplitter(tokens: matched
            + types.indices.filter { [.control, .unknown].contains(types[$0]) }.map { (Int32($0), Array(texts[$0].utf8)) })
    }

    // MARK: Encoding

    /// Token ids of `text`: no BOS/EOS; control tokens' text (`<|im_end|>`) is ordinary text unless `parsingControlTokens`
    /// (a chat template's markers), user-defined tokens are always matched, as llama.cpp does.
    public func encode(_ text: String, parsingControlTokens: Bool = false) -> [Int32] {
        let utf8 = Array(text.utf8)
        return utf8.withUnsafeBufferPointer { bytes in
            var output: [Int32] = []
            output.reserveCapacity(bytes.count / 3 + 4)
            let pieces = (parsingControlTokens ? controlTokenSplitter : specialTokenSplitter).split(bytes)
            switch engine {
            case let .bytePair(encoder, preTokenizer):
                var cache: [ArraySlice<UInt8>: [Int32]] = [:]
                for piece in pieces {
                    switch piece {
                    case let .token(id): output.append(id)
                    case let .text(range):
                        encodeBytePair(UnsafeBufferPointer(rebasing: bytes[range]), encoder, preTokenizer, &cache, &output)
                    }
                }
            case let .sentencePiece(encoder):
                // llama.cpp treats the start of the text like a preceding special token.
                var afterSpecial = true
                for piece in pieces {
                    switch piece {
                    case let .token(id):
                        output.append(id)
                        afterSpecial = true
                    case let .text(range):
                        encoder.encode(fragment: UnsafeBufferPointer(rebasing: bytes[range]),
                                       prefixSpace: addsSpacePrefix && afterSpecial, tokens: tokens, into: &output)
                        afterSpecial = false
                    }
                }
            }
            return output
        }
    }

    /// A document's tokens as METHOD.md §1 feeds them: BOS first when the model adds one, then `encode`.
    public func encodeDocument(_ text: String) -> [Int32] {
        guard addsBOS, let bosID else { return encode(text) }
        return [bosID] + encode(text)
    }

    private func encodeBytePair(_ fragment: UnsafeBufferPointer<UInt8>, _ encoder: BytePairEncoder, _ preTokenizer: PreTokenizer,
                                _ cache: inout [ArraySlice<UInt8>: [Int32]], _ output: inout [Int32]) {
        var start = 0
        for end in preTokenizer.wordEnds(fragment) {
            let word = UnsafeBufferPointer(rebasing: fragment[start ..< end])
            start = end
            // Text repeats its words a lot; remember each word's tokens for the rest of this call.
            let key = ArraySlice(word)
            if let known = cache[key] {
                output.append(contentsOf: known)
                continue
            }
            let before = output.count
            encoder.encode(word: word, tokens: tokens, into: &output)
            if word.count <= 64 { cache[key] = Array(output[before...]) }
        }
    }

    // MARK: Decoding

    /// The id of the control token written `text` (`<|im_end|>`, `<end_of_turn>`), if the vocabulary has one.
    public func controlToken(_ text: String) -> Int32? {
        guard let id = tokens.id(of: Array(text.utf8)), tokenTypes[Int(id)] == .control else { return nil }
        return id
    }

    /// The vocabulary entry of `id` as stored (byte-level characters or "▁" included); "" when out of range.
    public func tokenText(_ id: Int32) -> String {
        guard id >= 0, Int(id) < tokenTexts.count else { return "" }
        return tokenTexts[Int(id)]
    }

    /// Text of `ids`: their `coveredBytes` in order. Incomplete UTF-8 becomes U+FFFD.
    public func decode(_ ids: [Int32]) -> String {
        String(decoding: ids.flatMap(coveredBytes(of:)), as: UTF8.self)
    }

    /// The bytes of text that token `id` stands for, as llama.cpp's `token_to_piece` renders it without special
    /// tokens: control, unknown and unused tokens give nothing, user-defined tokens their text, byte tokens their
    /// byte, normal tokens their text with the byte-level encoding (BPE) or "▁" (SentencePiece) undone; nothing
    /// for an id outside the vocabulary. What a prediction of this token covers in bits per byte (METHOD.md §4).
    public func coveredBytes(of id: Int32) -> [UInt8] {
        guard id >= 0, Int(id) < tokenTexts.count else { return [] }
        let text = tokenTexts[Int(id)]
        switch tokenTypes[Int(id)] {
        case .control, .unknown, .unused:
            return []
        case .userDefined:
            return Array(text.utf8)
        case .byte:
            return Self.byteValue(ofByteToken: text).map { [$0] } ?? []
        case .normal, .undefined:
            guard case .bytePair = engine else { return Self.unescapingSpaces(Array(text.utf8)) }
            var bytes: [UInt8] = []
            ByteLevelEncoding.decode(text, into: &bytes)
            return bytes
        }
    }

    // MARK: Metadata helpers

    private static func readTokenTypes(_ gguf: GGUFFile, count: Int) throws(TokenizerError) -> [TokenType] {
        let key = "tokenizer.ggml.token_type"
        guard gguf.metadata[key] != nil else { return [TokenType](repeating: .normal, count: count) }
        guard let raw = gguf.intArray(key), raw.count >= count else {
            throw .invalidMetadata(path: gguf.path, key: key, detail: "expected an array of at least \(count) integers, one per token")
        }
        // llama.cpp maps unknown values to "undefined", which it handles like a normal token.
        return raw.prefix(count).map { TokenType(rawValue: $0) ?? .undefined }
    }

    /// The tokens llama.cpp cuts out of text even when not parsing special tokens: user-defined ones,
    /// minus those its loader promotes to control because of their text (end-of-generation and
    /// fill-in-the-middle markers, e.g. Gemma's user-defined "</s>"), plus the gpt-oss markers it
    /// demotes to user-defined.
    private static func tokensMatchedInText(_ texts: [String], _ types: [TokenType]) -> [(id: Int32, text: [UInt8])] {
        var result: [(id: Int32, text: [UInt8])] = []
        for (id, type) in types.enumerated() {
            let text = texts[id]
            let isUserDefined = type == .userDefined && !textsPromotedToControl.contains(text.utf8.map { $0 })
            if isUserDefined || textsDemotedToUserDefined.contains(text.utf8.map { $0 }) {
                result.append((Int32(id), Array(text.utf8)))
            }
        }
        return result
    }

    /// Compared as bytes (Swift's String equality would also match canonically equivalent texts).
    private static let textsPromotedToControl: Set<[UInt8]> = Set([
        // end of turn / generation
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
        // fill in the middle
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>",
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>",
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>",
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
        "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>",
    ].map { Array($0.utf8) })

    private static let textsDemotedToUserDefined: Set<[UInt8]> = Set(
        ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"].map { Array($0.utf8) })

    /// 0xXX of a "<0xXX>" token.
    private static func byteValue(ofByteToken text: String) -> UInt8? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 6, utf8.starts(with: Array("<0x".utf8)), utf8[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8[3 ..< 5], as: UTF8.self), radix: 16)
    }

    /// Replaces every U+2581 ("▁", E2 96 81) with a space.
    private static func unescapingSpaces(_ bytes: [UInt8]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if index + 2 < bytes.count, bytes[index] == 0xE2, bytes[index + 1] == 0x96, bytes[index + 2] == 0x81 {
                result.append(0x20)
                index += 3
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return result
    }
}
