import Foundation
import XCTest
@testable import StreamPPL

/// One schema for flags, settings files and experiment files: the same rule for a value wherever it is given, and
/// every error naming the setting's key and where its value came from.
final class SettingsSchemaTests: TemporaryFilesTestCase {
    private func runFile(_ text: String, _ format: ConfigurationFormat) throws -> [String: GivenSetting] {
        try ConfigurationFile(bytes: Array(text.utf8), format: format, path: "run.\(format.rawValue)", allowedKeys: RunRequest.keys).given
    }

    private func flags(_ values: [String: ConfigurationValue]) -> [String: GivenSetting] {
        values.mapValues { GivenSetting(value: $0, origin: .flag) }
    }

    private func settingError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> RunSettingsError? {
        do {
            try body()
            XCTFail("no error", file: file, line: line)
        } catch let error as RunSettingsError {
            return error
        } catch {
            XCTFail("\(error) is not a RunSettingsError", file: file, line: line)
        }
        return nil
    }

    func testDuplicateJSONKeyIsAnErrorNamingTheKeyAndBothLines() {
        let text = "{\n  \"cache\": \"dense\",\n  \"max-tokens\": 5,\n  \"cache\": \"4+8\"\n}"
        XCTAssertThrowsError(try runFile(text, .json)) { error in
            XCTAssertEqual(error as? ConfigurationError, ConfigurationError(path: "run.json", line: 4, reason: "key 'cache' is already set on line 2"))
        }
        // Escapes spell the same key; nested arrays' strings are values, not keys.
        XCTAssertThrowsError(try runFile(#"{"data": ["out", "out"], "out": "a", "o\u0075t": "b"}"#, .json)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.reason, "key 'out' is already set on line 1")
        }
        XCTAssertEqual(try runFile(#"{"data": ["cache", "cache"], "cache": "dense"}"#, .json)["data"]?.value, .array([.string("cache"), .string("cache")]))
    }

    func testFractionalCheckpointIntervalIsOneRuleInEveryFormat() throws {
        for layer in [try runFile("checkpoint-interval = 0.5", .toml), try runFile(#"{"checkpoint-interval": 0.5}"#, .json),
                      flags(["checkpoint-interval": .double(0.5)])] {
            XCTAssertEqual(try RunRequest.resolve([layer]).checkpointInterval, 0.5)
        }
        XCTAssertEqual(try RunRequest.resolve([runFile("checkpoint_interval = 2", .toml)]).checkpointInterval, 2)
        for (layer, origin) in [(try runFile("checkpoint-interval = -0.5", .toml), SettingOrigin.file(path: "run.toml", line: 1)),
                                (try runFile(#"{"checkpoint-interval": -0.5}"#, .json), .file(path: "run.json", line: 1)),
                                (flags(["checkpoint-interval": .double(-0.5)]), .flag), (flags(["checkpoint-interval": .double(.infinity)]), .flag)] {
            let error = settingError { _ = try RunRequest.resolve([layer]) }
            XCTAssertEqual(error?.key, "checkpoint-interval")
            XCTAssertEqual(error?.expected, "a number of seconds, at least 0")
            XCTAssertEqual(error?.origin, origin)
        }
    }

    func testFlagsOverrideTheFileAndErrorsPointWhereTheValueWasGiven() throws {
        let file = try runFile("cache = ['dense', '2+8']\nmax-tokens = 0\npositions = 'original'\nresume = true\n", .toml)
        let error = settingError { _ = try RunRequest.resolve([file]) }
        XCTAssertEqual(error, RunSettingsError(key: "max-tokens", found: "0", expected: "at least 1", origin: .file(path: "run.toml", line: 2)))
        XCTAssertEqual(error?.description, "run.toml: line 2: 'max-tokens' must be at least 1, found 0")

        let request = try RunRequest.resolve([file, flags(["max-tokens": .integer(7), "log-format": .string("csv")])])
        XCTAssertEqual(request.settings.maxTokens, 7, "the flag wins, so the file's bad value is not used")
        XCTAssertEqual(request.settings.positions, .original)
        XCTAssertEqual(request.settings.logFormat, .csv)
        XCTAssertEqual(request.settings.caches.map(\.text), ["dense", "2+8"])
        XCTAssertTrue(request.resume, "the file's resume holds without the flag")

        let fromFlag = settingError { _ = try RunRequest.resolve([file, flags(["max-tokens": .integer(0)])]) }
        XCTAssertEqual(fromFlag?.origin, .flag)
        XCTAssertEqual(fromFlag?.description, "'max-tokens' must be at least 1, found 0", "the library names the key, never a flag")
        let duplicate = settingError { _ = try RunRequest.resolve([flags(["data": .array([.string("a"), .string("a")])])]) }
        XCTAssertEqual(duplicate?.problem, "'data' must be each dataset once, found \"a\" twice")
        let unknown = settingError { _ = try RunRequest.resolve([flags(["max-token": .integer(3)])]) }
        XCTAssertEqual(unknown?.key, "max-token", "a key outside the schema is never dropped silently")
        XCTAssertEqual(unknown?.expected.hasPrefix("a known setting (cache, checkpoint-interval, chunk-size,"), true)
        XCTAssertEqual(RunRequest(), try RunRequest.resolve([]), "nothing given: the defaults")
        XCTAssertEqual(RunRequest().settings.caches.map(\.text), ["4+1020"])
    }

    func testSettingsFileEntryPointDecodesBytes() throws {
        let request = try RunRequest.decode(bytes: Array("cache = '2+8'\nshard = '1/3'\nout = 'o'\n".utf8), format: .toml, path: "run.toml")
        XCTAssertEqual(request.shard, try Shard("1/3"))
        XCTAssertEqual(request.out, "o")
        XCTAssertThrowsError(try RunRequest.decode(bytes: [0xFF], format: .json, path: "bad.json")) { error in
            XCTAssertEqual(error as? ConfigurationError, ConfigurationError(path: "bad.json", reason: "the file is not UTF-8 text"))
        }
    }

    func testExperimentFilesUseTheSameKeys() throws {
        let experiment = try Experiment.decode(bytes: Array(#"""
        {"title": "t", "kind": "stream", "data": ["d"], "cache": ["4+8", "dense"], "max-tokens": 40, "repeat": 2, "positions": "original"}
        """#.utf8), name: "e", path: "e.json")
        XCTAssertEqual(experiment.settings(model: "m.gguf"), RunSettings(model: "m.gguf", data: ["d"], caches: [try CacheConfig("4+8"), try CacheConfig("dense")],
                                                                         maxTokens: 40, repeats: 2, positions: .original))
        let cases: [(text: String, message: String)] = [
            ("{\"title\": \"t\",\n \"kind\": \"stream\", \"max_token\": 4}",
             "e.json: line 2: unknown key 'max_token'; allowed keys: cache, cache-sizes, chunk-size, data, exact-token-by-token, kind, length, "
                 + "log-format, max-tokens, notes, positions, recompute-tokens, repeat, sequences, title, tokens"),
            (#"{"title": "t", "kind": "stream", "model": "m.gguf"}"#, "e.json: line 1: unknown key 'model'"),
            ("{\"title\": \"t\",\n\"title\": \"u\"}", "e.json: line 2: key 'title' is already set on line 1"),
            (#"{"kind": "stream"}"#, "e.json: 'title' must be a string, found no value"),
            (#"{"title": "t", "kind": "figure"}"#, "e.json: line 1: 'kind' must be stream, attention or latency, found \"figure\""),
            (#"{"title": "t", "kind": "stream"}"#, "e.json: 'cache' must be at least one cache config, found none"),
            ("{\"title\": \"t\", \"kind\": \"stream\", \"cache\": \"4+8\",\n\"repeat\": 0}", "e.json: line 2: 'repeat' must be at least 1, found 0"),
            (#"{"title": "t", "kind": "attention", "sequences": 3}"#, "e.json: 'length' must be at least 2, found no value"),
            (#"{"title": "t", "kind": "latency", "cache-sizes": [8, 12], "tokens": 3, "recompute-tokens": [2]}"#,
             "e.json: line 1: 'recompute-tokens' must be one count of at least 1 per cache size (2), found [2]"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try Experiment.decode(bytes: Array(text.utf8), name: "e", path: "e.json"), text) { error in
                XCTAssertTrue("\(error)".hasPrefix(message), "\(text): \(error)")
            }
        }
    }

    /// run.json and plan.json keep the encoding of the string-typed settings: a folder an older version started
    /// resumes, and the file reads as before.
    func testSettingsEncodingIsTheOlderOne() throws {
        let older = #"""
        {"caches":["4\"\\n\"+1020","dense"],"chunkSize":256,"data":["datasets\/a"],"exactTokenByToken":false,"logFormat":"gz",\#
        "maxTokens":100,"model":"m.gguf","positions":"cache","repeats":2}
        """#
        let settings = try JSONDecoder().decode(RunSettings.self, from: Data(older.utf8))
        XCTAssertEqual(settings, RunSettings(model: "m.gguf", data: ["datasets/a"], caches: [try CacheConfig(#"4"\n"+1020"#), try CacheConfig("dense")],
                                             maxTokens: 100, repeats: 2))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        XCTAssertEqual(String(decoding: try encoder.encode(settings), as: UTF8.self), older)
        let withoutRepeats = older.replacingOccurrences(of: #","repeats":2"#, with: "")
        XCTAssertNil(try JSONDecoder().decode(RunSettings.self, from: Data(withoutRepeats.utf8)).repeats, "run.json from before --repeat")
        XCTAssertThrowsError(try JSONDecoder().decode(RunSettings.self, from: Data(older.replacingOccurrences(of: "dense", with: "4-8").utf8)))
        XCTAssertThrowsError(try JSONDecoder().decode(RunSettings.self, from: Data(older.replacingOccurrences(of: "\"gz\"", with: "\"zip\"").utf8)))
    }
}
