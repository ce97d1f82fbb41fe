import Foundation
import XCTest
@testable import StreamPPL

/// Token ids must equal llama.cpp's exactly: golden fixtures from llama.cpp on the real models, plus
/// hand-made vocabularies for the individual stages.
final class TokenizerTests: XCTestCase {
    private enum Model: String {
        case smollm2, gemma3
        var path: String {
            switch self {
            case .smollm2: TestPaths.smolLM2
            case .gemma3: TestPaths.gemma3
            }
        }
    }

    /// Real-model tokenizers, loaded once per model for the whole run (the Gemma vocabulary is big).
    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: [Model: Tokenizer] = [:]

    /// The model's tokenizer, or a test failure telling how to get the model. Missing models fail
    /// rather than skip: a silently skipped golden test proves nothing.
    private func tokenizer(_ model: Model, file: StaticString = #filePath, line: UInt = #line) throws -> Tokenizer? {
        Self.lock.lock()
        defer { Self.lock.unlock() }
        if let cached = Self.loaded[model] { return cached }
        guard FileManager.default.fileExists(atPath: model.path) else {
            XCTFail("model file \(model.path) is missing: run `scripts/fetch-model.sh \(model.rawValue)` "
                + "(or point STREAMPPL_MODELS at its folder)", file: file, line: line)
            return nil
        }
        let path = model.path
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: path))
        Self.loaded[model] = tokenizer
        return tokenizer
    }

    private func fixtureText(_ name: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: try TestPaths.fixture(name)))
        guard let text = String(data: data, encoding: .utf8) else { throw CocoaError(.fileReadInapplicableStringEncoding) }
        return text
    }

    private func fixtureIDs(_ name: String) throws -> [Int32] {
        try fixtureText(name).split(whereSeparator: \.isNewline).map { line in
            guard let id = Int32(line.trimmingCharacters(in: .whitespaces)) else { throw CocoaError(.fileReadCorruptFile) }
            return id
        }
    }

    // MARK: Golden fixtures (llama.cpp tokenize(special: false), BOS as the model's metadata says)

    func testSmolLM2TokenizerMix() throws { try checkGolden(.smollm2, "tokenizer_mix") }
    func testSmolLM2Hamlet() throws { try checkGolden(.smollm2, "hamlet_gut") }
    func testGemma3TokenizerMix() throws { try checkGolden(.gemma3, "tokenizer_mix") }
    func testGemma3Hamlet() throws { try checkGolden(.gemma3, "hamlet_gut") }

    private func checkGolden(_ model: Model, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        guard let tokenizer = try tokenizer(model, file: file, line: line) else { return }
        let input = try fixtureText("\(text).txt")
        let expected = try fixtureIDs("\(model.rawValue).\(text).ids")
        let start = Date()
        let actual = tokenizer.encodeDocument(input)
        let seconds = Date().timeIntervalSince(start)
        print("\(model.rawValue) \(text): \(actual.count) tokens in \(String(format: "%.3f", seconds)) s")
        assertSameTokens(actual, expected, tokenizer, "\(model.rawValue).\(text)", file: file, line: line)
        XCTAssertEqual(tokenizer.decode(actual), input, "\(model.rawValue).\(text): decode(encode(text)) should give the text back",
                       file: file, line: line)
    }

    /// On a mismatch, names the first differing index and shows the tokens around it.
    private func assertSameTokens(_ actual: [Int32], _ expected: [Int32], _ tokenizer: Tokenizer, _ what: String,
                                  file: StaticString = #filePath, line: UInt = #line) {
        guard actual != expected else { return }
        let common = min(actual.count, expected.count)
        let first = (0 ..< common).first { actual[$0] != expected[$0] } ?? common
        func show(_ ids: [Int32]) -> String {
            let window = ids[max(0, first - 5) ..< min(ids.count, first + 6)]
            return window.enumerated().map { offset, id in
                let index = max(0, first - 5) + offset
                return "\(index == first ? ">" : "")\(id) \(String(reflecting: tokenizer.tokenText(id)))"
            }.joined(separator: ", ")
        }
        XCTFail("""
            \(what): token ids differ from llama.cpp's at index \(first) (got \(actual.count) tokens, expected \(expected.count))
              got:      \(show(actual))
              expected: \(show(expected))
            """, file: file, line: line)
    }

    func testRealModelMetadata() throws {
        if let smol = try tokenizer(.smollm2) {
            XCTAssertEqual(smol.vocabularySize, 49152)
            XCTAssertFalse(smol.addsBOS)
            XCTAssertEqual(smol.bosID, 1)
            XCTAssertEqual(smol.eosID, 2)
            XCTAssertEqual(smol.tokenText(1), "<|im_start|>")
            XCTAssertEqual(smol.encodeDocument("Hello"), smol.encode("Hello"))
            // Special tokens' text is ordinary text here.
            XCTAssertFalse(smol.encode("<|im_end|>").contains(2))
        }
        if let gemma = try tokenizer(.gemma3) {
            XCTAssertEqual(gemma.vocabularySize, 262_144)
            XCTAssertTrue(gemma.addsBOS)
            XCTAssertEqual(gemma.bosID, 2)
            XCTAssertEqual(gemma.eosID, 1)
            XCTAssertEqual(gemma.encodeDocument("Hello").first, 2)
            XCTAssertEqual(Array(gemma.encodeDocument("Hello").dropFirst()), gemma.encode("Hello"))
            // User-defined tokens ("\n", runs of spaces) are cut out even without special parsing.
            XCTAssertEqual(gemma.encode("\n"), [107])
            XCTAssertEqual(gemma.encode("    "), [140])
            XCTAssertFalse(gemma.encode("<end_of_turn>").contains(106))
        }
    }

    func testRealModelRoundTrips() throws {
        let samples = ["", " ", "  leading and trailing  ", "naïve café — 東京 🙂👩🏽‍💻", "tab\there\r\nnew line", "x\u{0}y\u{7f}"]
        for model in [Model.smollm2, .gemma3] {
            guard let tokenizer = try tokenizer(model) else { continue }
            for sample in samples {
                XCTAssertEqual(tokenizer.decode(tokenizer.encode(sample)), sample, "\(model.rawValue): \(String(reflecting: sample))")
            }
        }
    }

    // MARK: Pre-tokenizers

    private func words(_ pre: String, _ text: String) throws -> [String] {
        let preTokenizer = try XCTUnwrap(PreTokenizer(name: pre), "pre-tokenizer \(pre)")
        let bytes = Array(text.utf8)
        let ends = bytes.withUnsafeBufferPointer { preTokenizer.wordEnds($0) }
        var start = 0
        return ends.map { end in
            defer { start = end }
            return String(decoding: bytes[start ..< end], as: UTF8.self)
        }
    }

    // Expected splits agree with Python's `regex` module running the original expressions.
    func testPreTokenizerContractionsDigitsAndWhitespace() throws {
        let text = "I'm  12345 don't\n\n  x"
        XCTAssertEqual(try words("gpt2", text), ["I", "'m", " ", " 12345", " don", "'t", "\n\n ", " x"])
        XCTAssertEqual(try words("smollm", text), ["I", "'m", "  ", "1", "2", "3", "4", "5", " don", "'t", "\n\n ", " x"])
        XCTAssertEqual(try words("llama-bpe", text), ["I", "'m", " ", " ", "123", "45", " don", "'t", "\n\n", " ", " x"])
        XCTAssertEqual(try words("qwen2", text), ["I", "'m", " ", " ", "1", "2", "3", "4", "5", " don", "'t", "\n\n", " ", " x"])
    }

    func testPreTokenizerCaseAndControlCharacters() throws {
        let text = "DON'T stop\r\n\tTabs  \t x"
        XCTAssertEqual(try words("gpt2", text), ["DON", "'", "T", " stop", "\r\n", "\t", "Tabs", "  \t", " x"])
        XCTAssertEqual(try words("smollm", text), ["DON", "'", "T", " stop", "\r\n", "\t", "Tabs", "  \t", " x"])
        XCTAssertEqual(try words("llama-bpe", text), ["DON", "'T", " stop", "\r\n", "\tTabs", "  \t", " x"])
        XCTAssertEqual(try words("qwen2", text), ["DON", "'T", " stop", "\r\n", "\tTabs", "  \t", " x"])
    }

    func testPreTokenizerUnicodeCategories() throws {
        for pre in ["gpt2", "smollm", "llama-bpe", "qwen2"] {
            XCTAssertEqual(try words(pre, "héllo wörld"), ["héllo", " wörld"], pre)
            XCTAssertEqual(try words(pre, "日本語テキスト"), ["日本語テキスト"], pre)
        }
        // No-break space is whitespace, '½' and '²' are numbers (category No).
        let text = "a\u{a0}b 3.14 ½ ², ok!!\n"
        XCTAssertEqual(try words("gpt2", text), ["a", "\u{a0}", "b", " 3", ".", "14", " ½", " ²", ",", " ok", "!!", "\n"])
        XCTAssertEqual(try words("smollm", text),
                       ["a", "\u{a0}", "b", " ", "3", ".", "1", "4", " ", "½", " ", "²", ",", " ok", "!!", "\n"])
        XCTAssertEqual(try words("llama-bpe", text), ["a", "\u{a0}b", " ", "3", ".", "14", " ", "½", " ", "²", ",", " ok", "!!\n"])
        XCTAssertEqual(try words("qwen2", text), ["a", "\u{a0}b", " ", "3", ".", "1", "4", " ", "½", " ", "²", ",", " ok", "!!\n"])
    }

    func testPreTokenizerKeepsEveryByte() throws {
        let text = "  \n\t x'S'll 123456789 ab,,, \u{1F469}\u{200D}\u{1F4BB}  "
        for pre in PreTokenizer.supportedNames {
            XCTAssertEqual(try words(pre, text).joined(), text, pre)
        }
        XCTAssertEqual(try words("gpt2", ""), [])
    }

    // MARK: Byte-level BPE on a hand-made vocabulary

    /// A gpt2-style model whose vocabulary is the 256 byte characters plus `extra`.
    private func bytePairTokenizer(extra: [String], merges: [String], pre: String = "gpt2") throws -> Tokenizer {
        let byteCharacters = (0 ..< 256).map { String(decoding: ByteLevelEncoding.encodedUTF8ForByte[$0], as: UTF8.self) }
        let path = try GGUFWriter.metadataOnly([
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string(pre)),
            ("tokenizer.ggml.tokens", .strings(["<|endoftext|>"] + byteCharacters + extra)),
            ("tokenizer.ggml.token_type", .int32s([3] + [Int32](repeating: 1, count: 256 + extra.count))),
            ("tokenizer.ggml.merges", .strings(merges)),
            ("tokenizer.ggml.eos_token_id", .uint32(0)),
        ])
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Tokenizer(gguf: GGUFFile(path: path))
    }

    private func pieces(_ tokenizer: Tokenizer, _ text: String) -> [String] {
        tokenizer.encode(text).map(tokenizer.tokenText)
    }

    func testBPEMergesLowestRankFirst() throws {
        // "b c" outranks "a b": "abc" becomes a + bc, then "a bc" joins them.
        let bcFirst = try bytePairTokenizer(extra: ["ab", "bc", "abc"], merges: ["b c", "a b", "a bc"])
        XCTAssertEqual(pieces(bcFirst, "abc"), ["abc"])
        let bcOnly = try bytePairTokenizer(extra: ["ab", "bc", "abc"], merges: ["b c", "a b", "ab c"])
        XCTAssertEqual(pieces(bcOnly, "abc"), ["a", "bc"])
        let abFirst = try bytePairTokenizer(extra: ["ab", "bc", "abc"], merges: ["a b", "b c", "ab c"])
        XCTAssertEqual(pieces(abFirst, "abc"), ["abc"])
    }

    func testBPETiesGoToTheLeftmostPair() throws {
        let tokenizer = try bytePairTokenizer(extra: ["aa"], merges: ["a a"])
        XCTAssertEqual(pieces(tokenizer, "aaa"), ["aa", "a"])
        XCTAssertEqual(pieces(tokenizer, "aaaaa"), ["aa", "aa", "a"])
    }

    func testBPEEncodesSpacesAndBytesAtByteLevel() throws {
        let tokenizer = try bytePairTokenizer(extra: ["Ġh", "Ġhi"], merges: ["Ġ h", "Ġh i"])
        XCTAssertEqual(pieces(tokenizer, "hi hi"), ["h", "i", "Ġhi"])
        XCTAssertEqual(pieces(tokenizer, "é"), ["Ã", "©"]) // the two UTF-8 bytes C3 A9
        for text in ["hi hi", "é\n\t  ü 42", "I'm  12345 don't\n\n  x", "😀"] {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text)), text)
        }
        // Control tokens' text is not special when encoding, and decodes to nothing.
        XCTAssertFalse(tokenizer.encode("<|endoftext|>").contains(0))
        XCTAssertEqual(tokenizer.decode([0]), "")
    }

    func testUnknownPreTokenizerIsNamed() throws {
        XCTAssertThrowsError(try bytePairTokenizer(extra: [], merges: [], pre: "made-up")) { error in
            guard case let TokenizerError.unknownPreTokenizer(_, pre) = error else {
                return XCTFail("expected unknownPreTokenizer, got \(error)")
            }
            XCTAssertEqual(pre, "made-up")
            XCTAssertTrue("\(error)".contains("'made-up'"))
        }
    }

    // MARK: SentencePiece on a hand-made vocabulary

    /// A SentencePiece model: <unk>, <s>, </s>, the 256 byte tokens, then `pieces` with their scores.
    private func sentencePieceTokenizer(_ pieces: [(String, Float)], userDefined: [String] = [],
                                        addSpacePrefix: Bool = false) throws -> Tokenizer {
        let byteNames = (0 ..< 256).map { byte -> String in
            let hex = String(byte, radix: 16, uppercase: true)
            return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
        }
        let texts = ["<unk>", "<s>", "</s>"] + byteNames + pieces.map(\.0) + userDefined
        let types: [Int32] = [2, 3, 3] + [Int32](repeating: 6, count: 256) + [Int32](repeating: 1, count: pieces.count)
            + [Int32](repeating: 4, count: userDefined.count)
        let scores: [Float] = [0, 0, 0] + [Float](repeating: 0, count: 256) + pieces.map(\.1)
            + [Float](repeating: 0, count: userDefined.count)
        let path = try GGUFWriter.metadataOnly([
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", .strings(texts)),
            ("tokenizer.ggml.scores", .floats(scores)),
            ("tokenizer.ggml.token_type", .int32s(types)),
            ("tokenizer.ggml.bos_token_id", .uint32(1)),
            ("tokenizer.ggml.eos_token_id", .uint32(2)),
            ("tokenizer.ggml.add_space_prefix", .bool(addSpacePrefix)),
        ])
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Tokenizer(gguf: GGUFFile(path: path))
    }

    func testSentencePieceMergesHighestScoreFirst() throws {
        // "a ab" is escaped to "a▁ab"; which of "▁a" and "ab" merges first decides the result.
        let abBetter = try sentencePieceTokenizer([("▁", -5), ("a", -5), ("b", -5), ("▁a", -2), ("ab", -1)])
        XCTAssertEqual(pieces(abBetter, "a ab"), ["a", "▁", "ab"])
        let spaceABetter = try sentencePieceTokenizer([("▁", -5), ("a", -5), ("b", -5), ("▁a", -0.5), ("ab", -1)])
        XCTAssertEqual(pieces(spaceABetter, "a ab"), ["a", "▁a", "b"])
        // Equal scores: the leftmost pair merges first.
        let tie = try sentencePieceTokenizer([("a", -5), ("aa", -1)])
        XCTAssertEqual(pieces(tie, "aaa"), ["aa", "a"])
    }

    func testSentencePieceByteFallback() throws {
        let tokenizer = try sentencePieceTokenizer([("▁", -5), ("a", -5)])
        XCTAssertEqual(pieces(tokenizer, "a ä"), ["a", "▁", "<0xC3>", "<0xA4>"])
        XCTAssertEqual(pieces(tokenizer, "😀"), ["<0xF0>", "<0x9F>", "<0x98>", "<0x80>"])
        for text in ["a ä", "😀 a", "  a\n"] {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text)), text)
        }
        XCTAssertEqual(tokenizer.encodeDocument("a"), [1] + tokenizer.encode("a"))
    }

    func testSentencePieceSpacePrefixAndUserDefinedTokens() throws {
        let plain = try sentencePieceTokenizer([("▁", -5), ("a", -5), ("▁a", -1)], userDefined: ["\n", "<b>"])
        XCTAssertEqual(pieces(plain, "a\na <b>a"), ["a", "\n", "a", "▁", "<b>", "a"])
        XCTAssertEqual(plain.decode(plain.encode("a\na <b>a")), "a\na <b>a")
        // With add_space_prefix, text at the start and after a special token gets a leading space.
        let prefixed = try sentencePieceTokenizer([("▁", -5), ("a", -5), ("▁a", -1)], userDefined: ["\n"], addSpacePrefix: true)
        XCTAssertEqual(pieces(prefixed, "a\na"), ["▁a", "\n", "▁a"])
    }

    func testUnsupportedModelIsNamed() throws {
        let path = try GGUFWriter.metadataOnly([
            ("tokenizer.ggml.model", .string("bert")),
            ("tokenizer.ggml.tokens", .strings(["[PAD]"])),
        ])
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try Tokenizer(gguf: GGUFFile(path: path))) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedModel(path: path, model: "bert"))
        }
    }
}
