import CZlib
import Foundation
import XCTest
@testable import StreamPPL

/// `streamppl run` end to end on the tiny model: the METHOD.md §4 outputs, and Ctrl-C leaving valid partial files.
final class RunCommandTests: CLITestCase {
    /// Two books, one gzipped: "doc" 0 and 1 in file-name order.
    func twoBooks() throws -> String {
        let folder = try keep(TemporaryFiles.directory())
        try Data(String(repeating: "The first book, page after page. ", count: 20).utf8).write(to: URL(fileURLWithPath: folder + "/a.txt"))
        let second = folder + "/b.txt.gz"
        guard let file = gzopen(second, "wb") else { throw CocoaError(.fileWriteUnknown) }
        let text = String(repeating: "And a second one, with other words. ", count: 20)
        _ = text.withCString { gzwrite(file, $0, UInt32(strlen($0))) }
        gzclose(file)
        return folder
    }

    func lines(ofGzip path: String) throws -> [Substring] {
        String(decoding: try Dataset.readBytes(path), as: UTF8.self).split(separator: "\n")
    }

    /// `--dry-run` lists the jobs (of a shard too) with the predictions the run would score, from a few timed passes,
    /// and writes nothing.
    func testDryRunPlansTheJobsWithoutRunningThem() throws {
        let out = try outFolder()
        let common = ["run", "--model", try tinyLlama(), "--data", try twoBooks(), "--cache", "2+8", "--cache", "dense", "--cache", "tova:12",
                      "--cache", "recompute:16/4", "--max-tokens", "1000", "--out", out, "--dry-run", "--json"]
        let outcome = try run(common)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let plan = try JSONDecoder().decode(RunPlan.self, from: Data(outcome.stdout.utf8))
        XCTAssertEqual(plan.jobs.map(\.config), ["2+8", "dense", "tova:12", "recompute:16/4"])
        XCTAssertEqual(plan.jobs.map(\.predictions), [1000, 1000, 1000, 1000], "the budget, below the books' 1378 predictions")
        XCTAssertEqual(plan.jobs.map(\.path), ["chunked", "chunked", "token-by-token", "recompute"])
        XCTAssertTrue(plan.jobs.allSatisfy { $0.seconds > 0 && $0.peakBytes > 0 })
        XCTAssertEqual(Set(plan.calibrations.map(\.path)), ["chunked", "token-by-token", "recompute"])
        XCTAssertGreaterThanOrEqual(plan.wallSeconds, plan.jobs.map(\.seconds).max() ?? 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a dry run writes nothing")

        let shard = try JSONDecoder().decode(RunPlan.self, from: Data(try run(common + ["--shard", "1/2"]).stdout.utf8))
        XCTAssertEqual(shard.jobs.map(\.index), [1, 3])
        let withoutBudget = common.filter { $0 != "--max-tokens" && $0 != "1000" }
        let whole = try JSONDecoder().decode(RunPlan.self, from: Data(try run(withoutBudget).stdout.utf8))
        XCTAssertEqual(whole.jobs.map(\.predictions), [1378, 1378, 1378, 1378], "the two books whole: 659 + 719 predictions")
        assertOneLineFailure(try run(common + ["--jobs", "0"]), mentions: ["--jobs"], "--jobs 0 in a dry run")
    }

    func testRunWritesTheLogsSummariesManifestAndPlot() throws {
        let out = try outFolder()
        let outcome = try run(["run", "--model", try tinyLlama(), "--data", try twoBooks(), "--cache", "2+8", "--cache", "dense",
                               "--cache", "recompute:16/4", "--out", out])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let log = try lines(ofGzip: out + "/nll.csv.gz")
        XCTAssertEqual(log.first, "config,doc,position,token,nll")
        let tokensPerBook = [660, 720]  // one byte per token in the tiny vocabulary
        let predictions = tokensPerBook.map { $0 - 1 }.reduce(0, +)
        XCTAssertEqual(log.count, 1 + 3 * predictions)
        for config in ["2+8", "dense", "recompute:16/4"] {
            let rows = log.dropFirst().filter { $0.hasPrefix(config + ",") }.map { $0.split(separator: ",") }
            XCTAssertEqual(rows.count, predictions, config)
            XCTAssertEqual(rows.first?[1 ... 2], ["0", "1"], "first target: token 1 of book 0")
            XCTAssertEqual(rows.map { Int($0[1]) ?? -1 }.filter { $0 == 1 }.count, tokensPerBook[1] - 1)
            XCTAssertTrue(rows.allSatisfy { $0.count == 5 && Double($0[4]).map { $0.isFinite && $0 >= 0 } == true })
        }
        let summary = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(summary[0].hasPrefix("config,tokens,mean_nll,ppl,"))
        XCTAssertEqual(summary.count, 4)
        XCTAssertTrue(summary[1].hasPrefix("2+8,\(predictions),"))
        let manifest = try JSONDecoder().decode(RunManifest.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/run.json")))
        XCTAssertTrue(manifest.complete)
        XCTAssertEqual(manifest.settings.caches.map(\.text), ["2+8", "dense", "recompute:16/4"])
        XCTAssertEqual(manifest.jobs.map(\.result.predictions), [predictions, predictions, predictions])
        XCTAssertEqual(manifest.dataFiles.count, 2)
        XCTAssertEqual(manifest.model.sha256.count, 64)
        XCTAssertTrue(try String(contentsOfFile: out + "/summary.md", encoding: .utf8).contains("| `dense` |"))
        XCTAssertTrue(try String(contentsOfFile: out + "/ppl.svg", encoding: .utf8).hasPrefix("<svg"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.contains(".tmp") }, [], "no temporary file is left")
    }

    func testRepeatStreamsTheBooksAgainNumberedOn() throws {
        let model = try tinyLlama(), books = try twoBooks()
        let out = try outFolder()
        let outcome = try run(["run", "--model", model, "--data", books, "--cache", "2+8", "--repeat", "2", "--out", out])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let rows = try lines(ofGzip: out + "/nll.csv.gz").dropFirst().map { $0.split(separator: ",") }
        XCTAssertEqual(rows.count, 2 * (659 + 719))
        XCTAssertEqual(Set(rows.map { $0[1] }), ["0", "1", "2", "3"])
        let firstRound = rows.prefix(659 + 719), secondRound = rows.dropFirst(659 + 719)
        XCTAssertEqual(secondRound.map { [Int($0[1])! - 2, Int($0[2])!, Int($0[3])!] },
                       firstRound.map { [Int($0[1])!, Int($0[2])!, Int($0[3])!] }, "the same targets, documents numbered on")
        XCTAssertEqual(try RunManifest.read(from: out + "/run.json").settings.repeats, 2)
        XCTAssertTrue(try String(contentsOfFile: out + "/ppl.svg", encoding: .utf8).contains("streamed 2 times over"), "the plot says so")

        let folder = try keep(TemporaryFiles.directory())
        try Data("model = \"\(model)\"\ndata = \"\(books)\"\ncache = \"2+8\"\nrepeat = 2\n".utf8)
            .write(to: URL(fileURLWithPath: folder + "/run.toml"))
        XCTAssertEqual(try run(["run", "--config", folder + "/run.toml", "--out", folder + "/from-toml"]).status, 0)
        XCTAssertEqual(try lines(ofGzip: folder + "/from-toml/nll.csv.gz"), try lines(ofGzip: out + "/nll.csv.gz"), "repeat in a settings file")
        assertOneLineFailure(try run(["run", "--model", model, "--data", books, "--repeat", "0", "--out", try outFolder()]),
                             mentions: ["--repeat", "0"], "a repeat count below 1")
    }

    func testInterruptLeavesValidPartialFiles() throws {
        let data = try keep(TemporaryFiles.directory()) + "/long.txt"
        try Data(String(repeating: "A long stream of text that will not end soon. ", count: 40_000).utf8).write(to: URL(fileURLWithPath: data))
        let out = try outFolder()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try XCTUnwrap(Self.executable))
        process.arguments = ["run", "--model", try tinyLlama(), "--data", data, "--cache", "4+60", "--exact-token-by-token", "--out", out]
        process.standardError = FileHandle.nullDevice
        try process.run()
        let jobLog = out + "/.streamppl/job-000/log.csv"
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, ((try? FileManager.default.attributesOfItem(atPath: jobLog)[.size] as? Int) ?? 0) < 1000 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.interrupt()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        let log = try lines(ofGzip: out + "/nll.csv.gz")
        XCTAssertGreaterThan(log.count, 10, "some predictions were scored before the interrupt")
        XCTAssertTrue(log.dropFirst().allSatisfy { $0.split(separator: ",").count == 5 }, "every row is whole")
        let manifest = try JSONDecoder().decode(RunManifest.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/run.json")))
        XCTAssertFalse(manifest.complete)
        let summary = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(summary[1].hasPrefix("4+60,\(log.count - 1),"), "the summary counts exactly the logged rows")
        XCTAssertTrue(summary[1].contains(",false,"), "marked incomplete")
    }
}
