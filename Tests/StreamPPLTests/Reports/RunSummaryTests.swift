import XCTest
@testable import StreamPPL

final class RunSummaryTests: XCTestCase {
    private func result(_ config: String, data: String, nlls: [Double]) -> ConfigResult {
        var statistics = NLLStatistics()
        nlls.forEach { statistics.add($0) }
        return ConfigResult(config: config, data: data, statistics: statistics, seconds: 2, peakResidentBytes: 5_000_000, complete: true)
    }

    func testMarkdownNamesEachDatasetOnceAndAddsADataColumnOnlyForSeveral() {
        let one = RunSummary(model: "m.gguf", modelSHA256: "ab", results: [result("0+8", data: "a", nlls: [1, 2]), result("4+4", data: "a", nlls: [1])])
        XCTAssertTrue(one.markdown.contains("Data: `a`\n"), one.markdown)
        XCTAssertFalse(one.markdown.contains("| data |"))
        let two = RunSummary(model: "m.gguf", modelSHA256: "ab", results: [result("0+8", data: "a", nlls: [1]), result("0+8", data: "b", nlls: [2])])
        XCTAssertTrue(two.markdown.contains("Data: `a`, `b`\n"), two.markdown)
        XCTAssertTrue(two.markdown.contains("| cache | data |"))
    }

    func testCSVRowsCarryTheStatisticsTheModelHashAndTheData() throws {
        let summary = RunSummary(model: "m.gguf", modelSHA256: "ab", results: [result("4\"\\n\"+8", data: "x,y", nlls: [1, 3])])
        let table = try CSVTable(text: summary.csv, path: "summary.csv")
        XCTAssertEqual(table.header.prefix(4), ["config", "tokens", "mean_nll", "ppl"])
        let row = try XCTUnwrap(table.rows.first)
        let column = { (name: String) in row[try XCTUnwrap(table.column(name))] }
        XCTAssertEqual(try column("config"), "4\"\\n\"+8")
        XCTAssertEqual(try column("tokens"), "2")
        XCTAssertEqual(try column("mean_nll"), "2.0")
        XCTAssertEqual(Double(try column("ppl")) ?? 0, exp(2), accuracy: 1e-12)
        XCTAssertEqual(try column("model_sha256"), "ab")
        XCTAssertEqual(try column("data"), "x,y")
    }
}
