import Foundation
import XCTest
@testable import StreamPPL

/// llama.cpp's own tokenizer tests (tests/test-tokenizer-0.cpp) on its vocabulary-only GGUFs, and
/// llama.cpp's ids of the reference text for the real models of the model-families work. Fixtures:
/// Fixtures/tokenizer/README.md and Fixtures/reference/README.md.
final class LlamaCppVocabTests: XCTestCase {
    private static let folder = TestPaths.repository + "/Tests/StreamPPLTests/Fixtures/tokenizer"

    /// The inputs, as test-tokenizer-0 reads them: the file cut at every "\n__ggml_vocab_test__\n".
    private func inputs() throws -> [String] {
        let raw = try String(contentsOfFile: Self.folder + "/ggml-vocab.inp", encoding: .utf8)
        var parts = raw.components(separatedBy: "\n__ggml_vocab_test__\n")
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    /// Runs every input through `encode` (test-tokenizer-0 uses add_special = false, parse_special = false:
    /// no BOS) and demands llama.cpp's ids; reports every failing input, then the pass count.
    private func check(_ vocab: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let path = Self.folder + "/ggml-vocab-\(vocab).gguf"
        // The qwen2 vocabulary is kept gzipped (5.9 MB raw), so a file of either form is read.
        let tokenizer = FileManager.default.fileExists(atPath: path + ".gz")
            ? try Tokenizer(gguf: Dataset.readBytes(path + ".gz").withUnsafeBytes { try GGUFFile(bytes: $0, name: path + ".gz") })
            : try Tokenizer(gguf: GGUFFile(path: path))
        let texts = try inputs()
        let expected = try String(contentsOfFile: path + ".out", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).prefix(texts.count)
            .map { $0.split(separator: " ").map { Int32($0)! } }
        XCTAssertEqual(expected.count, texts.count, "\(vocab): one .out line per input", file: file, line: line)
        var passed = 0
        for (text, ids) in zip(texts, expected) {
            let actual = tokenizer.encode(text)
            if actual == ids { passed += 1 } else {
                XCTFail("\(vocab): \(String(reflecting: text)) gave \(actual), llama.cpp \(ids)", file: file, line: line)
            }
        }
        print("\(vocab): \(passed)/\(texts.count) llama.cpp tokenizer tests pass")
    }

    func testGPT2() throws { try check("gpt-2") }
    func testFalcon() throws { try check("falcon") }
    func testMPT() throws { try check("mpt") }
    func testPhi3() throws { try check("phi-3") }
    func testQwen2() throws { try check("qwen2") }

    /// llama.cpp ships no expected ids for GPT-NeoX; its GGUF names no pre-tokenizer, which llama.cpp
    /// reads as "default". It must load, and the splitter must keep every byte.
    func testGPTNeoXLoadsWithTheDefaultPreTokenizer() throws {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: Self.folder + "/ggml-vocab-gpt-neox.gguf"))
        XCTAssertEqual(tokenizer.preTokenizerName, "default")
        XCTAssertFalse(tokenizer.addsBOS)
        for text in try inputs() {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text)), text)
        }
    }

    // MARK: Real models (ids from scripts/llamacpp-token-ids.py, BOS as the GGUF says)

    func testQwen25CoderHamlet() throws { try checkModel("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "qwen25coder", "hamlet_gut") }
    func testQwen25CoderTokenizerMix() throws { try checkModel("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "qwen25coder", "tokenizer_mix") }

    private func checkModel(_ fileName: String, _ name: String, _ text: String) throws {
        let path = TestPaths.models + "/" + fileName
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(path) is missing: put the model there (or point STREAMPPL_MODELS at its folder)")
        }
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: path))
        let input = try String(contentsOfFile: TestPaths.fixture("\(text).txt"), encoding: .utf8)
        let expected = try String(contentsOfFile: TestPaths.fixture("\(name).\(text).ids"), encoding: .utf8)
            .split(separator: "\n").map { Int32($0)! }
        let actual = tokenizer.encodeDocument(input)
        let first = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        XCTAssertEqual(actual.count, expected.count, "\(name).\(text): token count")
        XCTAssertNil(first, "\(name).\(text): first differing token index")
    }
}
