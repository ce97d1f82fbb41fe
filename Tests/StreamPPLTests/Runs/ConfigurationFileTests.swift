import Foundation
import XCTest
@testable import StreamPPL

/// `streamppl run --config FILE`: JSON and TOML read to the same settings, and every mistake is one line naming the file.
final class ConfigurationFileTests: TemporaryFilesTestCase {
    private let runKeys: Set<String> = [
        "model", "data", "cache", "max-tokens", "out", "exact-token-by-token", "chunk-size", "positions", "log-format",
        "resume", "shard", "checkpoint-interval",
    ]

    private func write(_ text: String, name: String) throws -> String {
        try write(Array(text.utf8), name: name)
    }

    private func write(_ bytes: [UInt8], name: String) throws -> String {
        try keep(TemporaryFiles.write(bytes, name: name))
    }

    private func read(_ text: String, name: String) throws -> ConfigurationFile {
        try ConfigurationFile(path: write(text, name: name), allowedKeys: runKeys)
    }

    /// The error `body` throws, after checking that its message is one line starting with the file.
    private func configurationError(_ path: String, file: StaticString = #filePath, line: UInt = #line,
                                    _ body: () throws -> Void) -> ConfigurationError? {
        do {
            try body()
            XCTFail("no error for \(path)", file: file, line: line)
        } catch let error as ConfigurationError {
            XCTAssertEqual(error.path, path, file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(path + ": "), error.description, file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), error.description, file: file, line: line)
            return error
        } catch {
            XCTFail("\(error) is not a ConfigurationError", file: file, line: line)
        }
        return nil
    }

    private func readingError(_ text: String, name: String, file: StaticString = #filePath, line: UInt = #line) throws -> ConfigurationError? {
        let path = try write(text, name: name)
        return configurationError(path, file: file, line: line) { _ = try ConfigurationFile(path: path, allowedKeys: runKeys) }
    }

    func testJSONAndTOMLGiveEqualSettings() throws {
        let json = try read(#"""
        {
          "model": "models/SmolLM2-135M-Instruct.Q4_1.gguf",
          "data": ["datasets/a", "datasets/b"],
          "cache": ["4\"\\n\"+1020", "dense", "recompute:64/8"],
          "max-tokens": 4096,
          "chunk_size": 256,
          "exact-token-by-token": false,
          "positions": "cache",
          "resume": true
        }
        """#, name: "run.json")
        let toml = try read(#"""
        # the same run as run.json
        model = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
        data = ["datasets/a", "datasets/b"]
        cache = [
          '4"\n"+1020',  # a literal string: the quotes and the backslash are the config's own
          "dense",
          "recompute:64/8",
        ]
        max_tokens = 4_096
        chunk-size = 256
        exact-token-by-token = false
        positions = 'cache'
        resume = true
        """#, name: "run.toml")
        let expected: [String: ConfigurationValue] = [
            "model": .string("models/SmolLM2-135M-Instruct.Q4_1.gguf"),
            "data": .array([.string("datasets/a"), .string("datasets/b")]),
            "cache": .array([.string(#"4"\n"+1020"#), .string("dense"), .string("recompute:64/8")]),
            "max-tokens": .integer(4096),
            "chunk-size": .integer(256),
            "exact-token-by-token": .bool(false),
            "positions": .string("cache"),
            "resume": .bool(true),
        ]
        XCTAssertEqual(json.values, expected)
        XCTAssertEqual(toml.values, expected)
        for file in [json, toml] {
            XCTAssertEqual(try file.string("model"), "models/SmolLM2-135M-Instruct.Q4_1.gguf")
            XCTAssertEqual(try file.strings("data"), ["datasets/a", "datasets/b"])
            XCTAssertEqual(try file.integer("max-tokens"), 4096)
            XCTAssertEqual(try file.integer("chunk-size"), 256)
            XCTAssertEqual(try file.bool("exact-token-by-token"), false)
            XCTAssertEqual(try file.bool("resume"), true)
            XCTAssertNil(try file.string("out"), "a key not in the file is nil")
            let caches = try XCTUnwrap(file.strings("cache"))
            XCTAssertEqual(caches.first, #"4"\n"+1020"#)
            XCTAssertEqual(try CacheConfig(caches[0]).policy, .sinkWindow(sinks: 4, window: 1020, sinkText: "\n"))
        }
    }

    func testSingleCacheStringInBothFormats() throws {
        let json = try read(#"{"cache": "4\"\\n\"+1020"}"#, name: "one.json")
        let toml = try read(#"cache = "4\"\\n\"+1020""#, name: "one.toml")
        let literal = try read(#"cache = '4"\n"+1020'"#, name: "literal.toml")
        for file in [json, toml, literal] {
            XCTAssertEqual(file.values, ["cache": .string(#"4"\n"+1020"#)])
            XCTAssertEqual(try file.strings("cache"), [#"4"\n"+1020"#], "a single string is a list of one")
        }
    }

    func testSnakeCaseKeysAreTheFlagNames() throws {
        let toml = try read("max_tokens = 10\nexact_token_by_token = true\ncheckpoint_interval = 500\nlog_format = 'csv'", name: "snake.toml")
        let json = try read(#"{"max_tokens": 10, "exact_token_by_token": true, "checkpoint_interval": 500, "log_format": "csv"}"#, name: "snake.json")
        for file in [toml, json] {
            XCTAssertEqual(file.values, ["max-tokens": .integer(10), "exact-token-by-token": .bool(true), "checkpoint-interval": .integer(500),
                                         "log-format": .string("csv")])
            XCTAssertEqual(try file.integer("max-tokens"), 10)
            XCTAssertEqual(try file.integer("max_tokens"), 10)
        }
    }

    func testOneSettingUnderTwoSpellingsIsAnError() throws {
        let toml = try readingError("max-tokens = 1\n\nmax_tokens = 2\n", name: "twice.toml")
        XCTAssertEqual(toml?.line, 3)
        XCTAssertEqual(toml?.reason, "'max_tokens' sets max-tokens again, already set as 'max-tokens' on line 1")
        let json = try readingError(#"{"max-tokens": 1, "max_tokens": 2}"#, name: "twice.json")
        XCTAssertNil(json?.line)
        XCTAssertEqual(json?.reason, "'max_tokens' sets max-tokens again, already set as 'max-tokens'")
        let exact = try readingError("cache = 'dense'\ncache = '4+1020'", name: "exact.toml")
        XCTAssertEqual(exact?.description.hasSuffix("exact.toml: line 2: key 'cache' is already set on line 1"), true, exact?.description ?? "")
    }

    func testUnknownKeyNamesTheFileTheKeyAndTheAllowedKeys() throws {
        let allowed = "cache, checkpoint-interval, chunk-size, data, exact-token-by-token, log-format, max-tokens, model, out, positions, resume, shard"
        let tomlPath = try write("model = 'm.gguf'\n# comment\nmax_token = 5\n", name: "typo.toml")
        let toml = configurationError(tomlPath) { _ = try ConfigurationFile(path: tomlPath, allowedKeys: runKeys) }
        XCTAssertEqual(toml?.description, "\(tomlPath): line 3: unknown key 'max_token'; allowed keys: \(allowed)")
        let jsonPath = try write(#"{"model": "m.gguf", "windows": 3}"#, name: "typo.json")
        let json = configurationError(jsonPath) { _ = try ConfigurationFile(path: jsonPath, allowedKeys: runKeys) }
        XCTAssertEqual(json?.description, "\(jsonPath): unknown key 'windows'; allowed keys: \(allowed)")
    }

    func testTOMLSyntaxErrorsNameTheFileAndLine() throws {
        let path = try write("model = 'm.gguf'\n\n[run]\ncache = 'dense'\n", name: "table.toml")
        let error = configurationError(path) { _ = try ConfigurationFile(path: path, allowedKeys: runKeys) }
        XCTAssertEqual(error?.description, "\(path): line 3: tables are not supported ([section]); write every key at the top level")
        XCTAssertEqual(try readingError("cache = \"4\"\\n\"+1020\"", name: "quotes.toml")?.line, 1,
                       "a cache config in a basic string needs its quotes escaped")
        XCTAssertEqual(try readingError("data = [\n 'a',\n 'b'\n", name: "open.toml")?.reason, "the array opened on line 1 is not closed")
    }

    func testWrongTypesNameTheKeyAndTheExpectedType() throws {
        let toml = try read("model = 42\ncache = ['dense', 7]\nmax-tokens = 2.5\nchunk-size = 1e3\nresume = 'yes'\nout = 'o'\n", name: "types.toml")
        let path = toml.path
        XCTAssertEqual(configurationError(path) { _ = try toml.string("model") }?.description, "\(path): line 1: 'model' must be a string, found 42")
        XCTAssertEqual(configurationError(path) { _ = try toml.strings("cache") }?.description,
                       "\(path): line 2: 'cache' must be a string or an array of strings, found [\"dense\", 7]")
        XCTAssertEqual(configurationError(path) { _ = try toml.integer("max-tokens") }?.description,
                       "\(path): line 3: 'max-tokens' must be a whole number, found 2.5")
        XCTAssertEqual(try toml.integer("chunk-size"), 1000, "a float that is a whole number is one")
        XCTAssertEqual(configurationError(path) { _ = try toml.bool("resume") }?.description,
                       "\(path): line 5: 'resume' must be true or false, found \"yes\"")
        XCTAssertEqual(configurationError(path) { _ = try toml.integer("out") }?.reason, "'out' must be a whole number, found \"o\"")
    }

    func testJSONBooleansAndNumbersStayApart() throws {
        let file = try read(#"{"resume": 1, "exact-token-by-token": true, "chunk-size": 0, "shard": false, "max-tokens": 1e2, "positions": 1.0}"#,
                            name: "numbers.json")
        XCTAssertEqual(file.values, ["resume": .integer(1), "exact-token-by-token": .bool(true), "chunk-size": .integer(0),
                                     "shard": .bool(false), "max-tokens": .double(100), "positions": .double(1)])
        XCTAssertEqual(configurationError(file.path) { _ = try file.bool("resume") }?.description,
                       "\(file.path): 'resume' must be true or false, found 1")
        XCTAssertEqual(configurationError(file.path) { _ = try file.integer("exact-token-by-token") }?.reason,
                       "'exact-token-by-token' must be a whole number, found true")
        XCTAssertEqual(try file.integer("max-tokens"), 100)
        XCTAssertEqual(try file.integer("chunk-size"), 0)
    }

    func testJSONIntegersBeyondIntAreNotWrapped() throws {
        let file = try read(#"{"max-tokens": 18446744073709551615, "chunk-size": 99999999999999999999, "shard": -9223372036854775808}"#,
                            name: "large.json")
        XCTAssertEqual(try file.integer("shard"), .min)
        XCTAssertEqual(configurationError(file.path) { _ = try file.integer("max-tokens") }?.reason.hasPrefix("'max-tokens' must be a whole number"), true)
        XCTAssertEqual(configurationError(file.path) { _ = try file.integer("chunk-size") }?.reason.hasPrefix("'chunk-size' must be a whole number"), true)
    }

    func testJSONStructureErrors() throws {
        let cases: [(text: String, reason: String)] = [
            (#"["model"]"#, "the top level must be a JSON object of settings"),
            (#""model""#, "the top level must be a JSON object of settings"),
            (#"{"model": }"#, "not valid JSON: "),
            ("{\"model\": \"m.gguf\"\n\"cache\": \"dense\"}", "not valid JSON: "),
            ("", "not valid JSON: "),
            (#"{"run": {"model": "m.gguf"}}"#, "'run' must be a string, a number, true, false or an array of those, found an object"),
            (#"{"cache": ["dense", {"sinks": 4}]}"#, "'cache' must be a string, a number, true, false or an array of those, found an object"),
            (#"{"out": null}"#, "'out' must be a string, a number, true, false or an array of those, found null"),
        ]
        for (index, (text, reason)) in cases.enumerated() {
            let error = try readingError(text, name: "case\(index).json")
            XCTAssertNil(error?.line)
            XCTAssertEqual(error?.reason.hasPrefix(reason), true, "\(text): \(error?.reason ?? "no error")")
        }
    }

    func testFileErrorsNameTheFile() throws {
        let folder = try keep(TemporaryFiles.directory())
        let missing = folder + "/missing.toml"
        XCTAssertEqual(configurationError(missing) { _ = try ConfigurationFile(path: missing, allowedKeys: runKeys) }?.reason, "no such configuration file")
        let yaml = try write("model: m.gguf\n", name: "run.yaml")
        XCTAssertEqual(configurationError(yaml) { _ = try ConfigurationFile(path: yaml, allowedKeys: runKeys) }?.reason,
                       "a configuration file must end in .json or .toml")
        let directory = folder + "/settings.json"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        XCTAssertEqual(configurationError(directory) { _ = try ConfigurationFile(path: directory, allowedKeys: runKeys) }?.reason,
                       "is a directory, not a configuration file")
        for name in ["latin1.toml", "latin1.json"] {
            let path = try write(Array("model = 'caf".utf8) + [0xE9] + Array("'\n".utf8), name: name)
            XCTAssertEqual(configurationError(path) { _ = try ConfigurationFile(path: path, allowedKeys: runKeys) }?.reason,
                           "the file is not UTF-8 text")
        }
    }

    func testUpperCaseExtensionAndByteOrderMark() throws {
        let path = try write([0xEF, 0xBB, 0xBF] + Array("model = 'm.gguf'\n".utf8), name: "RUN.TOML")
        XCTAssertEqual(try ConfigurationFile(path: path, allowedKeys: runKeys).values, ["model": .string("m.gguf")])
    }
}
