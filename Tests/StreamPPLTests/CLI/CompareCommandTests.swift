import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import StreamPPL

/// `streamppl compare` as CI runs it: exit 0 within tolerance, 1 beyond, 2 not comparable with one stderr
/// line naming the file, and the JUnit report in every case.
final class CompareCommandTests: CLITestCase {
    typealias Line = SummaryComparisonTests.Line

    let baselineLines = [Line(config: "0+1024", ppl: 812.5), Line(config: "4\"\\n\"+1020", ppl: 12.345678)]

    /// A summary.csv in a new temporary folder.
    func summaryFile(_ lines: [Line]) throws -> String {
        let path = try keep(TemporaryFiles.directory()) + "/summary.csv"
        let text = ([SummaryComparisonTests.header] + lines.map(\.csv)).joined(separator: "\n") + "\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The baseline with the second row changed by `change`.
    func candidate(_ change: (inout Line) -> Void) throws -> String {
        var lines = baselineLines
        change(&lines[1])
        return try summaryFile(lines)
    }

    func testOnePercentChangeFailsTheGate() throws {
        let outcome = try run(["compare", try summaryFile(baselineLines), try candidate { $0.ppl *= 1.01 }])
        XCTAssertEqual(outcome.status, 1, outcome.stderr)
        XCTAssertEqual(outcome.stderr, "")
        let lines = outcome.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 4, outcome.stdout)
        XCTAssertTrue(lines[1].hasSuffix("ok"), outcome.stdout)
        XCTAssertTrue(lines[2].hasPrefix("4\"\\n\"+1020") && lines[2].contains("+1%") && lines[2].hasSuffix("FAIL"), outcome.stdout)
        XCTAssertEqual(lines[3], "FAIL: 1 of 2 rows beyond tolerance (rtol 0.005, atol 0.0): 4\"\\n\"+1020")
    }

    func testRoundingLevelChangePasses() throws {
        let outcome = try run(["compare", try summaryFile(baselineLines), try candidate { $0.ppl *= 1 + 1e-7 }])
        XCTAssertEqual(outcome.status, 0, outcome.stdout + outcome.stderr)
        XCTAssertTrue(outcome.stdout.hasSuffix("PASS: all 2 rows within tolerance (rtol 0.005, atol 0.0)\n"), outcome.stdout)
    }

    func testToleranceOptionsAndOneSided() throws {
        let baseline = try summaryFile(baselineLines)
        let lower = try candidate { $0.ppl *= 0.99 }
        XCTAssertEqual(try run(["compare", baseline, lower]).status, 1)
        XCTAssertEqual(try run(["compare", baseline, lower, "--one-sided"]).status, 0)
        XCTAssertEqual(try run(["compare", baseline, lower, "--rtol", "0.02"]).status, 0)
        XCTAssertEqual(try run(["compare", baseline, lower, "--rtol", "0", "--atol", "0.2"]).status, 0)
        XCTAssertEqual(try run(["compare", baseline, lower, "--rtol", "0", "--atol", "0.1"]).status, 1)
        XCTAssertEqual(try run(["compare", baseline, try candidate { $0.ppl *= 1.01 }, "--one-sided"]).status, 1)
    }

    func testFilesThatCannotBeComparedExitWithTwo() throws {
        let baseline = try summaryFile(baselineLines)
        let cases: [(String, (inout Line) -> Void, [String])] = [
            ("different configs", { $0.config = "0+8" }, ["not comparable", "0+8", "4\"\\n\"+1020"]),
            ("token count", { $0.tokens = 999 }, ["not comparable", "999 tokens", "1000"]),
            ("model", { $0.sha = String(repeating: "0", count: 64) }, ["not comparable", "model_sha256"]),
            ("partial run", { $0.complete = false }, ["not comparable", "partial run"]),
        ]
        for (what, change, mentions) in cases {
            let other = try candidate(change)
            let outcome = try run(["compare", baseline, other])
            XCTAssertEqual(outcome.status, 2, what)
            XCTAssertEqual(outcome.stdout, "", what)
            assertOneLineFailure(outcome, mentions: [other] + mentions, what)
        }
        let partial = try candidate { $0.complete = false }
        assertOneLineFailure(try run(["compare", partial, baseline]), mentions: [partial, "partial run"], "partial baseline")
    }

    func testMissingOrMalformedFileExitsWithTwoNamingIt() throws {
        let baseline = try summaryFile(baselineLines)
        let missing = try keep(TemporaryFiles.directory()) + "/no such summary.csv"
        for arguments in [["compare", missing, baseline], ["compare", baseline, missing]] {
            let outcome = try run(arguments)
            XCTAssertEqual(outcome.status, 2)
            assertOneLineFailure(outcome, mentions: [missing, "No such file"], "missing file")
        }
        let notSummary = try keep(TemporaryFiles.directory()) + "/nll.csv"
        try Data("config,doc,position,token,nll\ndense,0,1,42,2.5\n".utf8).write(to: URL(fileURLWithPath: notSummary))
        let outcome = try run(["compare", baseline, notSummary])
        XCTAssertEqual(outcome.status, 2)
        assertOneLineFailure(outcome, mentions: [notSummary, "no column tokens, mean_nll, ppl"], "not a summary")
    }

    func testBadOptionValues() throws {
        let baseline = try summaryFile(baselineLines)
        let outcome = try run(["compare", baseline, baseline, "--rtol=-0.1"])
        XCTAssertEqual(outcome.status, 2)
        assertOneLineFailure(outcome, mentions: ["--rtol", "-0.1"], "negative rtol")
        XCTAssertEqual(try run(["compare", baseline, baseline, "--atol", "nan"]).status, 2)
        XCTAssertEqual(try run(["compare", baseline, baseline, "--rtol", "half"]).status, 64, "ArgumentParser's own usage error")
    }

    func testHelpShowsAnExampleAndTheExitCodes() throws {
        let outcome = try run(["compare", "--help"])
        XCTAssertEqual(outcome.status, 0)
        let help = outcome.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for text in ["Example: streamppl compare results/baseline/summary.csv out/summary.csv --rtol 0.005 --junit compare.xml",
                     "Exit codes: 0 every row within tolerance; 1 a row beyond tolerance; 2 not comparable", "--one-sided"] {
            XCTAssertTrue(help.contains(text), "help lacks \(text):\n\(outcome.stdout)")
        }
    }

    #if canImport(FoundationXML) || os(macOS)
    func testJUnitReportIsWrittenForEveryOutcome() throws {
        let folder = try keep(TemporaryFiles.directory())
        let report = folder + "/compare.xml"
        let baseline = try summaryFile(baselineLines)
        func suite() throws -> XMLElement {
            let document = try XMLDocument(contentsOf: URL(fileURLWithPath: report))
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["compare.xml"], "no temporary file left")
            return try XCTUnwrap(document.rootElement()?.elements(forName: "testsuite").first)
        }

        XCTAssertEqual(try run(["compare", baseline, try candidate { $0.ppl *= 1.01 }, "--junit", report]).status, 1)
        var written = try suite()
        XCTAssertEqual(written.attribute(forName: "name")?.stringValue, "streamppl compare")
        XCTAssertEqual(written.attribute(forName: "tests")?.stringValue, "2")
        XCTAssertEqual(written.attribute(forName: "failures")?.stringValue, "1")
        let cases = written.elements(forName: "testcase")
        XCTAssertEqual(cases.compactMap { $0.attribute(forName: "name")?.stringValue }, ["0+1024", "4\"\\n\"+1020"])
        XCTAssertEqual(cases.map { $0.elements(forName: "failure").count }, [0, 1])

        XCTAssertEqual(try run(["compare", baseline, baseline, "--junit", report]).status, 0)
        written = try suite()
        XCTAssertEqual(written.attribute(forName: "failures")?.stringValue, "0")
        XCTAssertEqual(written.elements(forName: "testcase").count, 2)

        let other = try candidate { $0.tokens = 999 }
        XCTAssertEqual(try run(["compare", baseline, other, "--junit", report]).status, 2)
        written = try suite()
        XCTAssertEqual(written.attribute(forName: "errors")?.stringValue, "1")
        let message = written.elements(forName: "testcase").first?.elements(forName: "error").first?.attribute(forName: "message")?.stringValue
        XCTAssertTrue(message?.contains(other) == true && message?.contains("999 tokens") == true, message ?? "no <error>")

        let unwritable = folder + "/missing folder/compare.xml"
        let outcome = try run(["compare", baseline, baseline, "--junit", unwritable])
        XCTAssertEqual(outcome.status, 2)
        assertOneLineFailure(outcome, mentions: [unwritable, "cannot write"], "unwritable --junit")
    }
    #endif
}
