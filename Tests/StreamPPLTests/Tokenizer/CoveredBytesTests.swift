import Foundation
import XCTest
@testable import StreamPPL

/// `Tokenizer.coveredBytes`: the text each token stands for (METHOD.md §4), checked on llama.cpp's own token ids of
/// the fixture texts, whose covered bytes in order must give back the text itself.
final class CoveredBytesTests: XCTestCase {
    private func tokenizer(_ path: String, fetch name: String) throws -> Tokenizer {
        try Tokenizer(gguf: GGUFFile(path: TestPaths.requireModel(path, fetch: name)))
    }

    private func fixtureIDs(_ name: String) throws -> [Int32] {
        try String(contentsOfFile: TestPaths.fixture(name), encoding: .utf8).split(whereSeparator: \.isNewline).map { try XCTUnwrap(Int32($0)) }
    }

    private func fixtureBytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture(name))))
    }

    private func id(of text: String, in tokenizer: Tokenizer) throws -> Int32 {
        try XCTUnwrap((0 ..< Int32(tokenizer.vocabularySize)).first { tokenizer.tokenText($0) == text }, text)
    }

    /// Byte-level BPE: a run's targets (tokens 1...) cover exactly the document after its first token.
    func testSmolLM2TargetsCoverTheDocumentAfterItsFirstToken() throws {
        let tokenizer = try tokenizer(TestPaths.smolLM2, fetch: "smollm2")
        for text in ["hamlet_gut", "tokenizer_mix"] {
            let ids = try fixtureIDs("smollm2.\(text).ids"), bytes = try fixtureBytes("\(text).txt")
            let first = tokenizer.coveredBytes(of: ids[0])
            XCTAssertFalse(first.isEmpty, text)
            XCTAssertEqual(Array(bytes.prefix(first.count)), first, text)
            let targets = ids.dropFirst().flatMap { tokenizer.coveredBytes(of: $0) }
            XCTAssertEqual(targets.count, bytes.count - first.count, text)
            XCTAssertTrue(targets.elementsEqual(bytes.dropFirst(first.count)), "\(text): the targets' bytes in order are the rest of the text")
        }
        XCTAssertEqual(tokenizer.coveredBytes(of: try id(of: "Ġthe", in: tokenizer)), Array(" the".utf8), "Ġ is a space byte")
        XCTAssertEqual(tokenizer.coveredBytes(of: try id(of: "Ċ", in: tokenizer)), [0x0A])
        XCTAssertEqual(tokenizer.coveredBytes(of: try id(of: "<|im_start|>", in: tokenizer)), [], "a control token covers nothing")
        XCTAssertEqual(tokenizer.coveredBytes(of: -1), [])
        XCTAssertEqual(tokenizer.coveredBytes(of: Int32(tokenizer.vocabularySize)), [])
    }

    /// SentencePiece: U+2581 is a space, `<0xXX>` its byte, BOS nothing; the ids (BOS first) give back the whole text.
    func testGemma3TokensCoverTheTextWithSpacesAndByteFallback() throws {
        let tokenizer = try tokenizer(TestPaths.gemma3, fetch: "gemma3")
        let ids = try fixtureIDs("gemma3.tokenizer_mix.ids"), bytes = try fixtureBytes("tokenizer_mix.txt")
        XCTAssertEqual(ids.first, tokenizer.bosID)
        XCTAssertEqual(tokenizer.coveredBytes(of: ids[0]), [], "BOS covers nothing")
        XCTAssertEqual(ids.flatMap { tokenizer.coveredBytes(of: $0) }, bytes)
        XCTAssertEqual(tokenizer.coveredBytes(of: try id(of: "▁the", in: tokenizer)), Array(" the".utf8))
        XCTAssertEqual(tokenizer.coveredBytes(of: try id(of: "<0x0A>", in: tokenizer)), [0x0A])
        XCTAssertEqual(tokenizer.coveredBytes(of: try id(of: "<0xE4>", in: tokenizer)), [0xE4])
        if let eos = tokenizer.eosID { XCTAssertEqual(tokenizer.coveredBytes(of: eos), [], "EOS covers nothing") }
    }
}
