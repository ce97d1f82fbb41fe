import Foundation
import XCTest
@testable import StreamPPL

/// How `streamppl run` reports a setting: the library's typed error, rendered as the flag for a value from the
/// command line and as `FILE: line N: 'key'` for one from `--config FILE`.
final class SettingsCommandTests: CLITestCase {
    private func config(_ text: String, name: String) throws -> String {
        let path = try keep(TemporaryFiles.directory()) + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testFlagErrorsNameTheFlagAndFileErrorsTheFileLineAndKey() throws {
        let model = try tinyLlama(), data = try goodData()
        let flag = try run(["run", "--model", model, "--data", data, "--max-tokens", "0", "--out", try outFolder()])
        assertOneLineFailure(flag, mentions: ["streamppl: error: --max-tokens must be at least 1, found 0"], "a bad flag")
        let toml = try config("cache = '2+8'\nmax-tokens = 0\n", name: "run.toml")
        assertOneLineFailure(try run(["run", "--model", model, "--data", data, "--config", toml, "--out", try outFolder()]),
                             mentions: ["streamppl: error: \(toml): line 2: 'max-tokens' must be at least 1, found 0"], "a bad file value")
        assertOneLineFailure(try run(["run", "--model", model, "--data", data, "--positions", "sideways", "--out", try outFolder()]),
                             mentions: ["--positions must be cache or original, found \"sideways\""], "a bad mode flag")
        assertOneLineFailure(try run(["run", "--model", model, "--data", data, "--cache", "4-8", "--out", try outFolder()]),
                             mentions: ["--cache must be a cache config", "found \"4-8\""], "a bad cache flag")
        let json = try config("{\"cache\": \"2+8\",\n \"cache\": \"dense\"}", name: "run.json")
        assertOneLineFailure(try run(["run", "--model", model, "--data", data, "--config", json, "--out", try outFolder()]),
                             mentions: ["\(json): line 2: key 'cache' is already set on line 1"], "a JSON key given twice")
        let overridden = try run(["run", "--model", model, "--data", data, "--config", toml, "--max-tokens", "3", "--out", try outFolder()])
        XCTAssertEqual(overridden.status, 0, "the flag replaces the file's bad value: " + overridden.stderr)
    }

    func testFractionalCheckpointIntervalInFlagsAndFiles() throws {
        let model = try tinyLlama(), data = try goodData()
        let base = ["run", "--model", model, "--data", data, "--cache", "2+8", "--max-tokens", "5"]
        let csv = try outFolder()
        XCTAssertEqual(try run(base + ["--checkpoint-interval", "0.5", "--log-format", "csv", "--positions", "original", "--out", csv]).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: csv + "/nll.csv"), "--log-format csv")
        XCTAssertEqual(try RunManifest.read(from: csv + "/run.json").settings.positions, .original)
        let toml = try config("checkpoint-interval = 0.5\n", name: "run.toml")
        let fromFile = try run(base + ["--config", toml, "--out", try outFolder()])
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        assertOneLineFailure(try run(base + ["--checkpoint-interval=-1", "--out", try outFolder()]),
                             mentions: ["--checkpoint-interval must be a number of seconds, at least 0, found -1.0"], "a negative interval flag")
        let negative = try config("checkpoint-interval = -1\n", name: "negative.toml")
        assertOneLineFailure(try run(base + ["--config", negative, "--out", try outFolder()]),
                             mentions: ["\(negative): line 1: 'checkpoint-interval' must be a number of seconds, at least 0, found -1"],
                             "a negative interval in a file")
    }
}
