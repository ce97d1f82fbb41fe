import Foundation
import XCTest
@testable import StreamPPL

/// `reproduce` through the library: experiment files in, result folders with their `summary.md` out, the isolated
/// measurements asked of the caller's tools.
final class ReproductionTests: TemporaryFilesTestCase {
    struct Fixture {
        let model: String
        let data: String
        let experiments: String
        let results: String
    }

    func fixture() throws -> Fixture {
        let data = keep(try TemporaryFiles.directory())
        try Data("It was the best of times, it was the worst of times.\n".utf8).write(to: URL(fileURLWithPath: data + "/book.txt"))
        let experiments = keep(try TemporaryFiles.directory())
        return Fixture(model: try keep(TinyLlama.writer().write()), data: data, experiments: experiments,
                       results: keep(try TemporaryFiles.directory()) + "/results")
    }

    func write(_ json: String, as name: String, in folder: String) throws {
        try Data(json.utf8).write(to: URL(fileURLWithPath: folder + "/" + name + ".json"))
    }

    /// Tools that must not be asked: a stream experiment runs in this process.
    static let noTools = Reproduction.Tools(attention: { _ in throw CocoaError(.featureUnsupported) },
                                            latency: { _ in throw CocoaError(.featureUnsupported) })

    func testAStreamExperimentWritesItsRunAndASummaryThatSaysWhereItComesFrom() throws {
        let f = try fixture()
        try write(#"{"title": "Short", "notes": "A prefix.", "kind": "stream", "data": ["\#(f.data)"], "cache": ["2+8"], "max-tokens": 20}"#,
                  as: "short", in: f.experiments)
        let events = RecordingEvents()
        let experiments = try Reproduction.experiments(["all"], in: f.experiments)
        XCTAssertEqual(experiments.map(\.name), ["short"])
        XCTAssertTrue(try Reproduction(model: f.model, results: f.results, tools: Self.noTools, events: events).run(experiments))

        let out = f.results + "/short"
        for file in ["summary.csv", "nll.csv.gz", "ppl.svg", "run.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + file), file)
        }
        let summary = try String(contentsOfFile: out + "/summary.md", encoding: .utf8)
        XCTAssertTrue(summary.hasPrefix("# Short\n\nA prefix.\n\nMade by `streamppl reproduce short` from `experiments/short.json`.\n\n"), summary)
        XCTAssertTrue(summary.contains("| `2+8` | 20 |"), "then the run's own summary: \(summary)")
        guard case let .experimentStarted(name, title)? = events.notices.first else { return XCTFail("\(events.notices)") }
        XCTAssertEqual([name, title], ["short", "Short"])
        XCTAssertEqual(events.progress.last?.predictions, 20)
        XCTAssertTrue(FileManager.default.fileExists(atPath: f.results + "/.jobs"), "the job is kept for later experiments")
    }

    func testALatencyExperimentAsksForEachPointAndWritesTheSweep() throws {
        let f = try fixture()
        try write(#"{"title": "Speed", "kind": "latency", "data": ["\#(f.data)"], "cache-sizes": [8, 12], "tokens": 3, "recompute-tokens": [2, 1]}"#,
                  as: "speed", in: f.experiments)
        var requests: [Reproduction.LatencyRequest] = []
        let tools = Reproduction.Tools(attention: { _ in throw CocoaError(.featureUnsupported) }) { request in
            requests.append(request)
            let recompute = request.config.hasPrefix("recompute")
            return LatencyMeasurement(config: request.config, mode: recompute ? .recompute : .streaming, cacheTokens: 8, tokens: request.tokens,
                                      seconds: Double(request.tokens) * (recompute ? 0.1 : 0.01), peakResidentBytes: 50_000_000,
                                      modelResidentBytes: 40_000_000)
        }
        let events = RecordingEvents()
        let experiment = try Experiment.load("speed", from: f.experiments)
        XCTAssertTrue(try Reproduction(model: f.model, results: f.results, tools: tools, events: events).run([experiment]))
        XCTAssertEqual(requests.map(\.config), ["recompute:8", "4+4", "recompute:12", "4+8"])
        XCTAssertEqual(requests.map(\.tokens), [2, 3, 1, 3])
        XCTAssertTrue(requests.allSatisfy { $0.model == f.model && $0.data == f.data })
        XCTAssertEqual(events.notices.count, 3, "the experiment, then each point")

        let out = f.results + "/speed"
        let csv = try CSVTable(contentsOfFile: out + "/latency.csv")
        XCTAssertEqual(csv.rows.map(\.first), ["8", "12"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/latency.svg") && FileManager.default.fileExists(atPath: out + "/memory.svg"))
        let summary = try String(contentsOfFile: out + "/summary.md", encoding: .utf8)
        XCTAssertTrue(summary.hasPrefix("# Speed\n\nMade by `streamppl reproduce speed` from `experiments/speed.json`.\n\nMachine: \(MachineInfo.description)\n\n"
            + "| cache size L |"), summary)
        XCTAssertTrue(summary.contains("| 8 | 100.0 (2 tokens) | 10.0 (3 tokens) | 10.0x | 50 | 50 |"), summary)
    }

    func testAnAttentionExperimentPutsTheToolsTableInItsSummary() throws {
        let f = try fixture()
        try write(#"{"title": "Sink", "kind": "attention", "data": ["\#(f.data)"], "sequences": 3, "length": 4}"#, as: "sink", in: f.experiments)
        var asked: [Reproduction.AttentionRequest] = []
        let tools = Reproduction.Tools(attention: { asked.append($0); return "layer 0\n" }, latency: { _ in throw CocoaError(.featureUnsupported) })
        XCTAssertTrue(try Reproduction(model: f.model, results: f.results, tools: tools).run(try Reproduction.experiments(["sink"], in: f.experiments)))
        XCTAssertEqual(asked, [Reproduction.AttentionRequest(model: f.model, data: f.data, sequences: 3, length: 4, out: f.results + "/sink")])
        XCTAssertEqual(try String(contentsOfFile: f.results + "/sink/summary.md", encoding: .utf8),
                       "# Sink\n\nMade by `streamppl reproduce sink` from `experiments/sink.json`.\n\n```\nlayer 0\n```\n")
    }

    /// The run's own partial `summary.md` stays as the run wrote it: the experiment's is written only once it is done.
    func testAStoppedReproductionWritesNoExperimentSummary() throws {
        let f = try fixture()
        try write(#"{"title": "Short", "kind": "stream", "data": ["\#(f.data)"], "cache": ["2+8"], "max-tokens": 20}"#, as: "short", in: f.experiments)
        let reproduction = Reproduction(model: f.model, results: f.results, tools: Self.noTools)
        var asked = 0
        XCTAssertFalse(try reproduction.run(try Reproduction.experiments(["short"], in: f.experiments), shouldStop: { asked += 1; return asked > 1 }))
        let summary = try String(contentsOfFile: f.results + "/short/summary.md", encoding: .utf8)
        XCTAssertFalse(summary.hasPrefix("# Short"), summary)
        XCTAssertEqual(try RunManifest.read(from: f.results + "/short/run.json").complete, false)
    }

    func testLongestExperimentsComeFirstAndAnUnknownOneIsTyped() throws {
        let f = try fixture()
        for (name, tokens) in [("a", 10), ("b", 30), ("c", 20)] {
            try write(#"{"title": "\#(name)", "kind": "stream", "data": ["\#(f.data)"], "cache": ["2+8"], "max-tokens": \#(tokens)}"#, as: name, in: f.experiments)
        }
        XCTAssertEqual(try Reproduction.experiments(["all"], in: f.experiments).map(\.name), ["b", "c", "a"])
        XCTAssertThrowsError(try Reproduction.experiments(["a", "nothing"], in: f.experiments)) {
            XCTAssertEqual($0 as? ReproductionError, .noSuchExperiment(path: f.experiments + "/nothing.json"))
        }
    }

    /// A subfolder of experiments is a group: its name runs each of them, into a results subfolder of the same name.
    func testAGroupRunsEachOfItsExperimentsIntoItsOwnFolder() throws {
        let f = try fixture()
        try FileManager.default.createDirectory(atPath: f.experiments + "/budgets", withIntermediateDirectories: true)
        for budget in [8, 16] {
            try write(#"{"title": "\#(budget)", "kind": "stream", "data": ["\#(f.data)"], "cache": ["2+\#(budget - 2)", "tova:\#(budget)"], "max-tokens": 12}"#,
                      as: "budgets/\(budget)", in: f.experiments)
        }
        try write(#"{"title": "top", "kind": "stream", "data": ["\#(f.data)"], "cache": ["2+8"], "max-tokens": 5}"#, as: "top", in: f.experiments)
        XCTAssertEqual(Experiment.names(in: f.experiments), ["budgets/16", "budgets/8", "top"])
        let group = try Reproduction.experiments(["budgets"], in: f.experiments)
        XCTAssertEqual(Set(group.map(\.name)), ["budgets/8", "budgets/16"])
        XCTAssertTrue(try Reproduction(model: f.model, results: f.results, tools: Self.noTools).run(group))
        for budget in [8, 16] {
            let out = f.results + "/budgets/\(budget)"
            XCTAssertTrue(try RunManifest.read(from: out + "/run.json").complete)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/kept.svg"), "tova is in the run: which early tokens stay")
        }
    }
}
