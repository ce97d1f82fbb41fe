import XCTest
@testable import StreamPPL

/// `generate --out`'s per-turn record: the repetition measure, and rows read back as written.
final class ChatReportTests: XCTestCase {
    func testRepeatedFourGramsTellsALoopFromProse() {
        XCTAssertEqual(ChatReport.repeatedFourGrams(Array(1 ... 40)), 0)
        // 10 copies of a 4-token loop: of its 37 4-grams only the first 4 are new.
        XCTAssertEqual(ChatReport.repeatedFourGrams(Array(repeating: [7, 8, 9, 10], count: 10).flatMap { $0 }), 33.0 / 37.0, accuracy: 1e-12)
        XCTAssertEqual(ChatReport.repeatedFourGrams([1, 2, 3, 4]), 0, "too short to repeat")
    }

    func testRowsReadBackAsWritten() throws {
        let folder = try TemporaryFiles.directory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var report = try ChatReport(folder: folder, config: "4\"\\n\"+1020", model: "m.gguf", template: .chatml)
        let turn = Turn(turn: 1, promptIDs: [1, 2, 3], generatedIDs: [5, 6, 7, 8, 5, 6, 7, 8], text: "hi", cacheTokens: 11, stop: .endOfTurn,
                        prefillSeconds: 0.5, decodeSeconds: 2, residentBytes: 123_400_000)
        report.record(turn, prompt: "hello")
        try report.write(status: "complete")
        let csv = folder + "/4__n_+1020/turns.csv"
        let rows = try ChatReport.readRows(csv)
        XCTAssertEqual(rows, [ChatReport.Row(turn: 1, promptTokens: 3, generatedTokens: 8, generatedTotal: 8, stop: "end-of-turn", cacheTokens: 11,
                                             residentMegabytes: 123.4, prefillTokensPerSecond: 6, decodeTokensPerSecond: 4, repeatedFourGrams: 0.2)])
        try Data("config,tokens\n".utf8).write(to: URL(fileURLWithPath: csv))
        XCTAssertThrowsError(try ChatReport.readRows(csv)) { XCTAssertTrue("\($0)".contains(csv), "\($0)") }
    }
}
