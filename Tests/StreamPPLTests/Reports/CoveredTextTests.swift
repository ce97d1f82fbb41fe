import XCTest
@testable import StreamPPL

/// Bytes, words and the three tokenizer-neutral scores (METHOD.md §4) on examples small enough to check by hand.
final class CoveredTextTests: XCTestCase {
    private func coveredBytes(_ targets: [(document: Int, text: [UInt8])]) -> CoveredText {
        var text = CoveredText()
        for target in targets { text.add(target.text, document: target.document) }
        return text
    }

    private func covered(_ targets: [(Int, String)]) -> CoveredText {
        coveredBytes(targets.map { ($0.0, Array($0.1.utf8)) })
    }

    func testAWordSplitOverTokensCountsOnceAndWhitespaceOnlyTokensSeparate() {
        // Document 0 covers " The quick  \nfox": 16 bytes, 3 words.
        let text = covered([(0, " The"), (0, " qu"), (0, "ick"), (0, "  "), (0, "\n"), (0, "fox")])
        XCTAssertEqual(text.bytes, 4 + 3 + 3 + 2 + 1 + 3)
        XCTAssertEqual(text.words, 3)
        XCTAssertEqual(covered([(0, "\t"), (0, " "), (0, "\r\n")]).words, 0, "whitespace only")
        XCTAssertEqual(covered([(0, "a"), (0, ""), (0, "b")]).words, 1, "a control token covers nothing and splits nothing")
    }

    func testWordsAreCountedPerDocument() {
        // "fox" ends document 0 and "jumps" starts document 1: two words, not "foxjumps".
        let text = covered([(0, " fox"), (1, "jumps"), (1, " over")])
        XCTAssertEqual(text.bytes, 4 + 5 + 5)
        XCTAssertEqual(text.words, 3)
    }

    func testACharacterSplitOverTokensIsJudgedWhole() {
        // U+3000 IDEOGRAPHIC SPACE (E3 80 80) is whitespace, U+4E2D 中 (E4 B8 AD) is not; each cut over two tokens.
        let text = coveredBytes([(0, Array("a".utf8) + [0xE3]), (0, [0x80, 0x80] + Array("b".utf8)),
                            (0, [0x20, 0xE4, 0xB8]), (0, [0xAD])])
        XCTAssertEqual(text.bytes, 9)
        XCTAssertEqual(text.words, 3, "a, b, 中")
        XCTAssertEqual(covered([(0, "a\u{00A0}b")]).words, 2, "NO-BREAK SPACE is Unicode whitespace")
        XCTAssertEqual(coveredBytes([(0, [0x20, 0xE4, 0xB8])]).words, 1, "a character cut off at the end counts as a word character")
        XCTAssertEqual(coveredBytes([(0, [0xE4, 0x20, 0x62])]).words, 2, "invalid UTF-8 is a word character")
    }

    func testTheThreeScores() throws {
        // 7 predictions of 4.5 bits each: S = 31.5 ln 2 over 21 bytes and 4 words.
        let text = covered([(0, " The"), (0, " qu"), (0, "ick"), (0, "  "), (0, "\n"), (0, "fox"), (1, "jumps")])
        XCTAssertEqual([text.bytes, text.words], [21, 4])
        var statistics = NLLStatistics()
        for _ in 0 ..< 7 { statistics.add(4.5 * log(2)) }
        let result = ConfigResult(config: "4+4", data: "d", statistics: statistics, coveredText: text, seconds: 1,
                                  peakResidentBytes: nil, complete: true)
        XCTAssertEqual(result.bitsPerByte, 1.5, accuracy: 1e-12)
        XCTAssertEqual(result.bytePerplexity, pow(2, 1.5), accuracy: 1e-12)
        XCTAssertEqual(result.wordPerplexity, pow(2, 31.5 / 4), accuracy: 1e-9)

        let table = try CSVTable(text: RunSummary(model: "m", modelSHA256: "ab", results: [result]).csv, path: "summary.csv")
        XCTAssertEqual(table.header.prefix(4), ["config", "tokens", "mean_nll", "ppl"], "the leading columns stay")
        let row = try XCTUnwrap(table.rows.first)
        let column = { (name: String) in row[try XCTUnwrap(table.column(name), name)] }
        XCTAssertEqual(try column("bytes"), "21")
        XCTAssertEqual(try column("words"), "4")
        XCTAssertEqual(Double(try column("bits_per_byte")) ?? 0, 1.5, accuracy: 1e-12)
        XCTAssertEqual(Double(try column("byte_ppl")) ?? 0, pow(2, 1.5), accuracy: 1e-12)
        XCTAssertEqual(Double(try column("word_ppl")) ?? 0, pow(2, 31.5 / 4), accuracy: 1e-9)
    }

    func testNoCoveredTextGivesNaNNotAFakeScore() {
        var statistics = NLLStatistics()
        statistics.add(1)
        let result = ConfigResult(config: "x", data: "d", statistics: statistics, coveredText: covered([(0, "")]), seconds: 1,
                                  peakResidentBytes: nil, complete: true)
        XCTAssertTrue(result.bitsPerByte.isNaN && result.bytePerplexity.isNaN && result.wordPerplexity.isNaN)
    }
}
