import Foundation
import XCTest
@testable import StreamPPL

/// `streamppl reproduce` on the tiny model: experiment files in, result folders out; a shorter experiment reads
/// the prefix of a longer one's job and equals a run of its own.
final class ReproduceCommandTests: CLITestCase {
    func write(_ json: String, as name: String, in folder: String) throws {
        try Data(json.utf8).write(to: URL(fileURLWithPath: folder + "/" + name + ".json"))
    }

    func testExperimentsWriteTheirResultFolders() throws {
        let model = try tinyLlama(), data = try goodData()
        let experiments = try keep(TemporaryFiles.directory()), results = try keep(TemporaryFiles.directory()) + "/results"
        try write(#"{"title": "long", "kind": "stream", "data": ["\#(data)"], "cache": ["2+8", "recompute:8/4"], "max-tokens": 40}"#,
                  as: "long", in: experiments)
        try write(#"{"title": "short", "notes": "a prefix", "kind": "stream", "data": ["\#(data)"], "cache": ["recompute:8/4"], "max-tokens": 17}"#,
                  as: "short", in: experiments)
        try write(#"{"title": "sink", "kind": "attention", "data": ["\#(data)"], "sequences": 3, "length": 4}"#, as: "sink", in: experiments)
        try write(#"{"title": "speed", "kind": "latency", "data": ["\#(data)"], "cache-sizes": [8, 12], "tokens": 3, "recompute-tokens": [2, 1]}"#,
                  as: "speed", in: experiments)
        let listed = try run(["reproduce", "--list", "--experiments", experiments])
        XCTAssertEqual(listed.stdout, "long\tlong\nshort\tshort\nsink\tsink\nspeed\tspeed\n")

        let outcome = try run(["reproduce", "all", "--model", model, "--experiments", experiments, "--results", results])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        for file in ["long/summary.csv", "long/ppl.svg", "long/run.json", "short/nll.csv.gz", "sink/attention.svg", "sink/first_token.csv",
                     "speed/latency.csv", "speed/latency.svg", "speed/memory.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: results + "/" + file), file)
        }
        let summary = try String(contentsOfFile: results + "/short/summary.md", encoding: .utf8)
        XCTAssertTrue(summary.hasPrefix("# short\n\na prefix\n\nMade by `streamppl reproduce short`"), summary)
        let latency = try CSVTable(contentsOfFile: results + "/speed/latency.csv")
        XCTAssertEqual(latency.rows.map(\.first), ["8", "12"])

        let alone = try outFolder()
        XCTAssertEqual(try run(["run", "--model", model, "--data", data, "--cache", "recompute:8/4", "--max-tokens", "17", "--out", alone]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: alone + "/nll.csv.gz")),
                       try Data(contentsOf: URL(fileURLWithPath: results + "/short/nll.csv.gz")),
                       "the first 17 predictions of the long job are those of a run of 17")

        assertOneLineFailure(try run(["reproduce", "nothing", "--model", model, "--experiments", experiments, "--results", results]),
                             mentions: ["nothing.json", "no such experiment"], "an unknown experiment")
        try write(#"{"title": "bad", "kind": "latency", "cache-sizes": [8, 12], "tokens": 3, "recompute-tokens": [2]}"#, as: "bad", in: experiments)
        assertOneLineFailure(try run(["reproduce", "bad", "--model", model, "--experiments", experiments, "--results", results]),
                             mentions: ["bad.json", "recompute-tokens"], "a latency experiment without a token count per size")
        try write(#"{"title": "bad", "kind": "stream", "cache": ["4-8"]}"#, as: "bad", in: experiments)
        assertOneLineFailure(try run(["reproduce", "bad", "--model", model, "--experiments", experiments, "--results", results]),
                             mentions: ["bad.json", "4-8"], "a stream experiment with a bad cache config")
        try write(#"{"title": "bad", "kind": "stream", "cache": ["4+8"], "repeat": 0}"#, as: "bad", in: experiments)
        assertOneLineFailure(try run(["reproduce", "bad", "--model", model, "--experiments", experiments, "--results", results]),
                             mentions: ["bad.json", "'repeat' must be at least 1, found 0"], "a stream experiment repeating its corpus no times")
    }
}
