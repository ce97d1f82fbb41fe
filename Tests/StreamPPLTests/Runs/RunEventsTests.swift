import Foundation
import XCTest
@testable import StreamPPL

/// Records what the library hands its caller instead of printing.
final class RecordingEvents: RunEvents {
    var progress: [JobProgress] = []
    var notices: [RunNotice] = []

    func progress(_ progress: JobProgress) { self.progress.append(progress) }
    func notice(_ notice: RunNotice) { notices.append(notice) }
}

/// A run reports its progress and notices as typed values to the caller's `RunEvents`, and its errors name no flag.
final class RunEventsTests: TemporaryFilesTestCase {
    func settings() throws -> RunSettings {
        let folder = keep(try TemporaryFiles.directory())
        try Data("It was the best of times, it was the worst of times.\n".utf8).write(to: URL(fileURLWithPath: folder + "/book.txt"))
        return RunSettings(model: try keep(TinyLlama.writer().write()), data: [folder], caches: [try CacheConfig("2+8")], maxTokens: 30)
    }

    func testEveryPredictionAndTheEndOfEachJobAreReported() throws {
        let events = RecordingEvents()
        let out = keep(try TemporaryFiles.directory()) + "/out"
        let outcome = try RunExecutor(settings: try settings(), out: out, events: events).execute(resume: false, title: "t")
        XCTAssertTrue(outcome.complete)
        XCTAssertEqual(events.progress.map(\.predictions), Array(1 ... 30) + [30])
        XCTAssertEqual(events.progress.map(\.finished), Array(repeating: false, count: 30) + [true])
        let last = try XCTUnwrap(events.progress.last)
        XCTAssertEqual(last.job, "2+8")
        XCTAssertEqual(last.total, 30)
        XCTAssertEqual(last.predictionsBefore, 0)
        XCTAssertEqual(last.perplexity, outcome.results[0].statistics.perplexity, accuracy: 1e-4)
        XCTAssertTrue(events.notices.isEmpty)
    }

    func testStartingAfreshOverAnInterruptedRunIsANotice() throws {
        let settings = try settings(), out = keep(try TemporaryFiles.directory()) + "/out"
        let stopped = try RunExecutor(settings: settings, out: out).execute(resume: false, title: "t", shouldStop: { true })
        XCTAssertFalse(stopped.complete)
        let events = RecordingEvents()
        _ = try RunExecutor(settings: settings, out: out, events: events).execute(resume: false, title: "t")
        guard case let .discardingInterruptedRun(folder)? = events.notices.first else { return XCTFail("\(events.notices)") }
        XCTAssertEqual(folder, out)
    }

    func testResumingWithOtherSettingsIsATypedErrorNamingNoFlag() throws {
        var settings = try settings()
        let out = keep(try TemporaryFiles.directory()) + "/out"
        _ = try RunExecutor(settings: settings, out: out).execute(resume: false, title: "t", shouldStop: { true })
        settings.maxTokens = 20
        XCTAssertThrowsError(try RunExecutor(settings: settings, out: out).execute(resume: true, title: "t")) {
            XCTAssertEqual($0 as? RunFolderError, .otherRun(plan: out + "/.streamppl/plan.json", folder: out))
            XCTAssertFalse("\($0)".contains("--"), "\($0)")
        }
    }

    func testTheRateLeavesOutPredictionsMadeBeforeAResume() {
        let progress = JobProgress(job: "4+8", predictions: 300, total: 500, predictionsBefore: 100, meanNLL: log(20), seconds: 10, finished: false)
        XCTAssertEqual(progress.tokensPerSecond, 20)
        XCTAssertEqual(progress.secondsLeft, 10)
        XCTAssertEqual(progress.perplexity, 20, accuracy: 1e-9)
        XCTAssertNil(JobProgress(job: "4+8", predictions: 3, total: nil, predictionsBefore: 0, meanNLL: 0, seconds: 1, finished: false).secondsLeft)
    }

    /// The library's error lines name settings and files; flags are the CLI's words.
    func testLibraryErrorsNameNoFlag() {
        let errors: [Error] = [
            AttentionMapError.tooFewTokens(path: "data", found: 18, sequences: 5, length: 4),
            ReproductionError.noSuchExperiment(path: "experiments/x.json"),
            RunFolderError.otherRun(plan: "out/.streamppl/plan.json", folder: "out"),
            BenchError.invalid(setting: "tokens", found: "0", expected: "a positive whole number"),
        ]
        for error in errors { XCTAssertFalse("\(error)".contains("--"), "\(error)") }
    }
}
