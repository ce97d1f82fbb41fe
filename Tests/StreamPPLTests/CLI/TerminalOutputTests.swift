import Foundation
import XCTest
@testable import StreamPPL

/// What the CLI draws on stderr from the library's events and errors: progress lines, notices, and the flags
/// that the library's errors leave out.
final class TerminalOutputTests: CLITestCase {
    func testARunDrawsItsProgressAndTheNoticeOfStartingAfresh() throws {
        let model = try tinyLlama(), data = try goodData(), out = try outFolder()
        try FileManager.default.createDirectory(atPath: out + "/.streamppl", withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: out + "/.streamppl/plan.json"))
        let outcome = try run(["run", "--model", model, "--data", data, "--cache", "2+8", "--max-tokens", "30", "--out", out])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let lines = outcome.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "streamppl: starting afresh in \(out): the interrupted run there is discarded (--resume continues it)")
        // Not a terminal: no carriage returns, and within 10 s only the final line of the job.
        XCTAssertFalse(outcome.stderr.contains("\r"))
        let progress = try XCTUnwrap(lines.last)
        XCTAssertTrue(progress.hasPrefix("2+8: 30/30 tokens, "), progress)
        XCTAssertNotNil(progress.range(of: #" tok/s, ppl [0-9.]+, [0-9]+m[0-9]{2}s$"#, options: .regularExpression), progress)
        XCTAssertEqual(lines.count, 2, outcome.stderr)
    }

    func testAttentionOnTooShortAStreamNamesTheFlags() throws {
        let outcome = try run(["attention", "--model", try tinyLlama(), "--data", try goodData(), "--sequences", "40", "--length", "4",
                               "--out", try outFolder()])
        assertOneLineFailure(outcome, mentions: ["fewer than the 40 x 4 = 160", "use fewer --sequences or a shorter --length"], "too short a stream")
    }

    func testBenchRejectsListsWithAnythingButPositiveNumbers() throws {
        let model = try tinyLlama(), data = try goodData()
        for (flag, value) in [("--chunk-sizes", "4,x"), ("--chunk-sizes", ""), ("--recompute", "8,-1")] {
            assertOneLineFailure(try run(["bench", "--model", model, "--data", data, flag, value]), mentions: [flag], "\(flag) \(value)")
        }
        assertOneLineFailure(try run(["bench", "--model", model, "--data", data, "--tokens", "0"]), mentions: ["--tokens", "found 0"], "no timed tokens")
        assertOneLineFailure(try run(["bench", "--model", model, "--data", data, "--caches", ""]), mentions: ["--caches"], "no cache config")
    }
}
