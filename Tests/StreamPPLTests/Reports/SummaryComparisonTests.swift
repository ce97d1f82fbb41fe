import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import StreamPPL

/// `compare`'s rules: rows matched on (config, data), a tolerance on each perplexity, and every reason two
/// summaries cannot be compared named with its file.
final class SummaryComparisonTests: XCTestCase {
    static let sha = "9b0e6a1f4c2d8e7f00112233445566778899aabbccddeeff0011223344556677"

    /// One summary.csv row with the columns RunSummary writes.
    struct Line {
        var config: String
        var ppl: Double
        var tokens = 1000
        var complete = true
        var sha = SummaryComparisonTests.sha
        var data = "book.txt"

        var csv: String {
            [NLLLog.csvField(config), "\(tokens)", "\(log(ppl))", "\(ppl)", "1", "2", "3", "99.5", "120", "\(complete)", "model.gguf",
             sha, NLLLog.csvField(data)].joined(separator: ",")
        }
    }

    static let header = "config,tokens,mean_nll,ppl,ppl_ci95_low,ppl_ci95_high,ppl_second_half,tokens_per_second,peak_rss_mb,complete,model,model_sha256,data"

    func summary(_ lines: [Line], path: String, header: String = SummaryComparisonTests.header) throws -> SummaryFile {
        try SummaryFile(table: CSVTable(text: ([header] + lines.map(\.csv)).joined(separator: "\n") + "\n", path: path))
    }

    func compare(_ baseline: [Line], _ candidate: [Line], _ tolerance: ComparisonTolerance = ComparisonTolerance()) throws -> SummaryComparison {
        try SummaryComparison(baseline: summary(baseline, path: "base.csv"), candidate: summary(candidate, path: "cand.csv"), tolerance: tolerance)
    }

    /// The rows of a two-config run with the second config's perplexity scaled by `factor`.
    func twoConfigs(secondScaledBy factor: Double, _ tolerance: ComparisonTolerance = ComparisonTolerance()) throws -> SummaryComparison {
        try compare([Line(config: "0+1024", ppl: 812.5), Line(config: "4+1020", ppl: 12.345678)],
                    [Line(config: "0+1024", ppl: 812.5), Line(config: "4+1020", ppl: 12.345678 * factor)], tolerance)
    }

    func testRoundingLevelChangePasses() throws {
        let comparison = try twoConfigs(secondScaledBy: 1 + 1e-7)
        XCTAssertTrue(comparison.passed)
        XCTAssertEqual(comparison.rows.map(\.passed), [true, true])
        XCTAssertEqual(comparison.rows[1].relativeChange, 1e-7, accuracy: 1e-12)
        XCTAssertEqual(comparison.rows[1].allowedChange, 0.005 * 12.345678, accuracy: 1e-12)
        XCTAssertEqual(comparison.verdict, "PASS: all 2 rows within tolerance (rtol 0.005, atol 0.0)")
    }

    func testOnePercentChangeFailsInEitherDirection() throws {
        for factor in [1.01, 0.99] {
            let comparison = try twoConfigs(secondScaledBy: factor)
            XCTAssertFalse(comparison.passed, "×\(factor)")
            XCTAssertEqual(comparison.rows.map(\.passed), [true, false], "×\(factor)")
            XCTAssertEqual(comparison.verdict, "FAIL: 1 of 2 rows beyond tolerance (rtol 0.005, atol 0.0): 4+1020", "×\(factor)")
        }
    }

    func testOneSidedFailsOnlyARise() throws {
        let oneSided = ComparisonTolerance(oneSided: true)
        XCTAssertTrue(try twoConfigs(secondScaledBy: 0.9, oneSided).passed)
        XCTAssertTrue(try twoConfigs(secondScaledBy: 1.004, oneSided).passed)
        XCTAssertFalse(try twoConfigs(secondScaledBy: 1.006, oneSided).passed)
    }

    func testToleranceIsAbsolutePlusRelative() throws {
        let tolerance = ComparisonTolerance(relative: 0.01, absolute: 0.05)
        XCTAssertEqual(tolerance.allowedChange(from: -10), 0.15, accuracy: 1e-15)
        for (candidate, passes) in [(10.14, true), (9.86, true), (10.16, false), (9.84, false)] {
            let comparison = try compare([Line(config: "dense", ppl: 10)], [Line(config: "dense", ppl: candidate)], tolerance)
            XCTAssertEqual(comparison.passed, passes, "\(candidate)")
        }
        let exact = ComparisonTolerance(relative: 0, absolute: 0)
        XCTAssertTrue(try compare([Line(config: "dense", ppl: 10)], [Line(config: "dense", ppl: 10)], exact).passed)
        XCTAssertFalse(try compare([Line(config: "dense", ppl: 10)], [Line(config: "dense", ppl: 10.000000000000002)], exact).passed)
    }

    /// A NaN or infinite perplexity is a broken run, not a regression: the files are not comparable.
    func testNaNOrInfinitePerplexityIsNotComparable() throws {
        for (old, new) in [(Double.nan, 10.0), (10.0, .nan), (.nan, .nan), (10.0, .infinity), (.infinity, .infinity)] {
            for oneSided in [false, true] {
                XCTAssertThrowsError(try compare([Line(config: "dense", ppl: old)], [Line(config: "dense", ppl: new)],
                                                 ComparisonTolerance(oneSided: oneSided)), "\(old) -> \(new), one-sided \(oneSided)") { error in
                    XCTAssertTrue((error as? ReportError)?.reason.contains("not a finite number") == true, "\(error)")
                }
                XCTAssertFalse(ComparisonTolerance(oneSided: oneSided).accepts(baseline: old, candidate: new), "\(old) -> \(new)")
            }
        }
    }

    /// (config, data) is the key: the same config on two datasets is two rows, and the table shows the data
    /// column only then.
    func testRowsAreKeyedByConfigAndData() throws {
        let baseline = [Line(config: "dense", ppl: 10, data: "a.txt"), Line(config: "dense", ppl: 20, data: "b.txt")]
        let candidate = [Line(config: "dense", ppl: 20.5, data: "b.txt"), Line(config: "dense", ppl: 10, data: "a.txt")]
        let comparison = try compare(baseline, candidate)
        XCTAssertEqual(comparison.rows.map(\.key), [SummaryKey(config: "dense", data: "a.txt"), SummaryKey(config: "dense", data: "b.txt")])
        XCTAssertEqual(comparison.rows.map(\.candidate), [10, 20.5])
        XCTAssertEqual(comparison.rows.map(\.passed), [true, false])
        let table = comparison.table.split(separator: "\n").map(String.init)
        XCTAssertEqual(table.count, 3)
        XCTAssertEqual(table[0].split(separator: " ", omittingEmptySubsequences: true).prefix(3), ["config", "data", "tokens"])
        XCTAssertEqual(table[2].split(separator: " ").prefix(3), ["dense", "b.txt", "1000"])
        XCTAssertTrue(comparison.verdict.hasSuffix(": dense [b.txt]"), comparison.verdict)

        let single = try twoConfigs(secondScaledBy: 1.01).table
        XCTAssertFalse(single.contains("data"), single)
        XCTAssertFalse(single.contains("book.txt"), single)
    }

    func testTableShowsBothPerplexitiesTheChangeAndTheStatus() throws {
        let table = try twoConfigs(secondScaledBy: 1.01).table
        XCTAssertEqual(table, """
            config  tokens  baseline ppl  candidate ppl    delta  delta %  status
            0+1024    1000      812.5000       812.5000       +0      +0%  ok
            4+1020    1000       12.3457        12.4691  +0.1235      +1%  FAIL
            """)
    }

    func testNotComparable() throws {
        let dense = Line(config: "dense", ppl: 10)
        var otherTokens = dense
        otherTokens.tokens = 999
        var otherModel = dense
        otherModel.sha = String(Self.sha.reversed())
        var partial = dense
        partial.complete = false
        let cases: [(String, [Line], [Line], String)] = [
            ("different configs", [dense, Line(config: "0+8", ppl: 5)], [dense, Line(config: "4+4", ppl: 5)],
             "cand.csv: different rows from base.csv: lacks config '0+8' on 'book.txt'; has extra config '4+4' on 'book.txt'"),
            ("a missing config", [dense, Line(config: "0+8", ppl: 5)], [dense], "cand.csv: different rows from base.csv: lacks config '0+8'"),
            ("another dataset", [dense], [Line(config: "dense", ppl: 10, data: "other.txt")],
             "cand.csv: different rows from base.csv: lacks config 'dense' on 'book.txt'; has extra config 'dense' on 'other.txt'"),
            ("token counts", [dense], [otherTokens], "cand.csv: line 2: 999 tokens for config 'dense' on 'book.txt', base.csv has 1000"),
            ("models", [dense], [otherModel],
             "cand.csv: line 2: model_sha256 \(otherModel.sha.prefix(16))… for config 'dense' on 'book.txt', base.csv has 9b0e6a1f4c2d8e7f… (a different model)"),
            ("partial candidate", [dense], [partial], "cand.csv: line 2: config 'dense' on 'book.txt' is a partial run (complete=false)"),
            ("partial baseline", [partial], [dense], "base.csv: line 2: config 'dense' on 'book.txt' is a partial run"),
        ]
        for (what, baseline, candidate, message) in cases {
            XCTAssertThrowsError(try compare(baseline, candidate), what) { error in
                XCTAssertTrue("\(error)".hasPrefix(message), "\(what): \(error)")
            }
        }
    }

    func testFilesThatAreNotSummariesAreNamed() throws {
        let good = Line(config: "dense", ppl: 10).csv
        let cases: [(String, String)] = [
            ("config,tokens,ppl\ndense,10,3\n", "s.csv: no column mean_nll in the header config,tokens,ppl"),
            ("config,tokens,mean_nll\ndense,10,3\n", "s.csv: no column ppl in the header config,tokens,mean_nll"),
            (Self.header + "\n", "s.csv: no rows after the header"),
            (Self.header + "\n" + good + "\n" + good + "\n", "s.csv: line 3: a second row for config 'dense' on 'book.txt'"),
            (Self.header + "\n" + good.replacingOccurrences(of: ",1000,", with: ",1e3,"), "s.csv: line 2: tokens '1e3' is not a whole number >= 0"),
            (Self.header + "\n" + good.replacingOccurrences(of: ",1000,", with: ",-1,"), "s.csv: line 2: tokens '-1' is not a whole number >= 0"),
            (Self.header + "\n" + good.replacingOccurrences(of: ",10.0,", with: ",ten,"), "s.csv: line 2: ppl 'ten' is not a number"),
            (Self.header + "\n" + good.replacingOccurrences(of: ",true,", with: ",yes,"), "s.csv: line 2: complete 'yes' is not true or false"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try SummaryFile(table: CSVTable(text: text, path: "s.csv")), message) { error in
                XCTAssertEqual("\(error)", message)
            }
        }
    }

    /// Files from before model_sha256 existed, or with columns added later, still compare.
    func testOlderFilesAndExtraColumnsCompare() throws {
        let older = try SummaryFile(table: CSVTable(text: "config,tokens,mean_nll,ppl,complete,model,data\n\"4\"\"\\n\"\"+1020\",1000,2.5,12.18,true,m.gguf,book.txt\n",
                                                    path: "old.csv"))
        XCTAssertEqual(older.rows.map(\.modelSHA256), [nil])
        let newer = try summary([Line(config: "4\"\\n\"+1020", ppl: 12.18)], path: "new.csv", header: Self.header)
        XCTAssertTrue(try SummaryComparison(baseline: older, candidate: newer, tolerance: ComparisonTolerance()).passed)

        let minimal = try SummaryFile(table: CSVTable(text: "ppl,extra,config,mean_nll,tokens\n12.18,x,\"4\"\"\\n\"\"+1020\",2.5,1000\n", path: "min.csv"))
        XCTAssertEqual(minimal.rows.first?.key, SummaryKey(config: "4\"\\n\"+1020", data: ""))
        XCTAssertEqual(minimal.rows.first?.complete, true)
        XCTAssertEqual(minimal.rows.first?.perplexity, 12.18)
    }

    /// What RunSummary writes, configs with quotes and commas included, reads back exactly.
    func testRunSummaryRoundTrips() throws {
        var statistics = NLLStatistics()
        for nll in [2.5, 3.25, 1.125, 4.0625] { statistics.add(nll) }
        let configs = ["4\"\\n\"+1020", "4\"a,b\"+8", "dense"]
        let results = configs.flatMap { config in
            ["book one.txt", "two,\"quoted\".txt"].map { data in
                ConfigResult(config: config, data: data, statistics: statistics, seconds: 2, peakResidentBytes: 5_000_000, complete: true)
            }
        }
        let csv = RunSummary(model: "m.gguf", modelSHA256: Self.sha, results: results).csv
        let file = try SummaryFile(table: CSVTable(text: csv, path: "summary.csv"))
        XCTAssertEqual(file.rows.map(\.key), results.map { SummaryKey(config: $0.config, data: $0.data) })
        XCTAssertEqual(file.rows.map(\.tokens), Array(repeating: 4, count: 6))
        XCTAssertEqual(file.rows.map(\.perplexity), Array(repeating: statistics.perplexity, count: 6))
        XCTAssertEqual(file.rows.map(\.meanNLL), Array(repeating: statistics.meanNLL, count: 6))
        XCTAssertEqual(file.rows.map(\.modelSHA256), Array(repeating: Self.sha, count: 6))
        XCTAssertTrue(try SummaryComparison(baseline: file, candidate: file, tolerance: ComparisonTolerance(relative: 0)).passed)
    }

    func testBitsPerByteIsShownBesideThePerplexitiesAndMayBeMissingFromAnOlderBaseline() throws {
        var statistics = NLLStatistics()
        for _ in 0 ..< 4 { statistics.add(3 * log(2)) }
        var covered = CoveredText()
        covered.add(Array(" two words".utf8), document: 0)
        let result = ConfigResult(config: "dense", data: "book.txt", statistics: statistics, coveredText: covered, seconds: 2,
                                  peakResidentBytes: nil, complete: true)
        let newer = try SummaryFile(table: CSVTable(text: RunSummary(model: "m.gguf", modelSHA256: Self.sha, results: [result]).csv, path: "new.csv"))
        XCTAssertEqual(newer.rows.first?.bitsPerByte ?? 0, 12.0 / 10, accuracy: 1e-12)
        let older = try summary([Line(config: "dense", ppl: statistics.perplexity, tokens: 4)], path: "old.csv")
        XCTAssertNil(older.rows.first?.bitsPerByte)
        let comparison = try SummaryComparison(baseline: older, candidate: newer, tolerance: ComparisonTolerance())
        XCTAssertTrue(comparison.passed, "the gate is on perplexity only")
        let lines = comparison.table.split(separator: "\n")
        XCTAssertTrue(lines[0].contains("baseline bpb  candidate bpb"), comparison.table)
        XCTAssertEqual(lines[1].split(separator: " ").suffix(3), ["-", "1.2000", "ok"], comparison.table)
        let without = try SummaryComparison(baseline: older, candidate: older, tolerance: ComparisonTolerance())
        XCTAssertFalse(without.table.contains("bpb"), "no such columns when neither file has them")
    }

    #if canImport(FoundationXML) || os(macOS)
    func testJUnitReportParsesAndCarriesEachRow() throws {
        let tricky = "4\"<&>'\u{1}\"+8"
        let comparison = try compare([Line(config: "dense", ppl: 10), Line(config: tricky, ppl: 5)],
                                     [Line(config: "dense", ppl: 10), Line(config: tricky, ppl: 5.5)])
        let document = try XMLDocument(data: Data(comparison.junitXML.utf8))
        let suites = try XCTUnwrap(document.rootElement())
        XCTAssertEqual(suites.name, "testsuites")
        let suite = try XCTUnwrap(suites.elements(forName: "testsuite").first)
        XCTAssertEqual(suite.attribute(forName: "name")?.stringValue, "streamppl compare")
        XCTAssertEqual(suite.attribute(forName: "tests")?.stringValue, "2")
        XCTAssertEqual(suite.attribute(forName: "failures")?.stringValue, "1")
        XCTAssertEqual(suite.attribute(forName: "errors")?.stringValue, "0")
        let suiteProperties = try Self.properties(of: suite)
        XCTAssertEqual(suiteProperties["baseline"], "base.csv")
        XCTAssertEqual(suiteProperties["candidate"], "cand.csv")
        XCTAssertEqual(suiteProperties["rtol"], "0.005")
        let cases = suite.elements(forName: "testcase")
        XCTAssertEqual(cases.compactMap { $0.attribute(forName: "name")?.stringValue }, ["dense", "4\"<&>'\u{FFFD}\"+8"])
        XCTAssertEqual(cases[0].elements(forName: "failure").count, 0)
        let failure = try XCTUnwrap(cases[1].elements(forName: "failure").first)
        XCTAssertEqual(failure.attribute(forName: "message")?.stringValue, "ppl 5.0 -> 5.5 (+10%): moved by more than ±0.025")
        XCTAssertEqual(try Self.properties(of: cases[1])["baseline_ppl"], "5.0")
        XCTAssertEqual(try Self.properties(of: cases[1])["candidate_ppl"], "5.5")

        let error = try XMLDocument(data: Data(SummaryComparison.junitXML(notComparable: "a.csv: line 2: \"x\" <is>\nodd", baseline: "a.csv",
                                                                           candidate: "b.csv", tolerance: ComparisonTolerance()).utf8))
        let errorSuite = try XCTUnwrap(error.rootElement()?.elements(forName: "testsuite").first)
        XCTAssertEqual(errorSuite.attribute(forName: "errors")?.stringValue, "1")
        let errorCase = try XCTUnwrap(errorSuite.elements(forName: "testcase").first)
        XCTAssertEqual(errorCase.elements(forName: "error").first?.attribute(forName: "message")?.stringValue, "a.csv: line 2: \"x\" <is>\nodd")
    }

    static func properties(of element: XMLElement) throws -> [String: String] {
        let list = try XCTUnwrap(element.elements(forName: "properties").first).elements(forName: "property")
        return Dictionary(list.map { ($0.attribute(forName: "name")?.stringValue ?? "", $0.attribute(forName: "value")?.stringValue ?? "") },
                          uniquingKeysWith: { first, _ in first })
    }
    #endif
}
