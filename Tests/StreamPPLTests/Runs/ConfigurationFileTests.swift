import Foundation
import XCTest
@testable import StreamPPL

/// `streamppl run --config FILE`: JSON and TOML read to the same settings, and every mistake is one line naming the file.
final class ConfigurationFileTests: TemporaryFilesTestCase {
    private let runKeys = RunRequest.keys

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
            let request = try RunRequest.resolve([file.given])
            XCTAssertEqual(request.settings.model, "models/SmolLM2-135M-Instruct.Q4_1.gguf")
            XCTAssertEqual(request.settings.data, ["datasets/a", "datasets/b"])
            XCTAssertEqual(request.settings.maxTokens, 4096)
            XCTAssertEqual(request.settings.chunkSize, 256)
            XCTAssertEqual(request.settings.exactTokenByToken, false)
            XCTAssertEqual(request.settings.positions, .cache)
            XCTAssertEqual(request.resume, true)
            XCTAssertNil(request.out, "a key not in the file keeps its default")
            XCTAssertEqual(request.settings.caches.map(\.text), [#"4"\n"+1020"#, "dense", "recompute:64/8"])
            XCTAssertEqual(request.settings.caches.first?.policy, .sinkWindow(sinks: 4, window: 1020, sinkText: "\n"))
        }
    }

    func testSingleCacheStringInBothFormats() throws {
        let json = try read(#"{"cache": "4\"\\n\"+1020"}"#, name: "one.json")
        let toml = try read(#"cache = "4\"\\n\"+1020""#, name: "one.toml")
        let literal = try read(#"cache = '4"\n"+1020'"#, name: "literal.toml")
        for file in [json, toml, literal] {
            XCTAssertEqual(file.values, ["cache": .string(#"4"\n"+1020"#)])
            XCTAssertEqual(try RunRequest.resolve([file.given]).settings.caches.map(\.text), [#"4"\n"+1020"#], "a single string is a list of one")
        }
    }

    func testSnakeCaseKeysAreTheFlagNames() throws {
        let toml = try read("max_tokens = 10\nexact_token_by_token = true\ncheckpoint_interval = 500\nlog_format = 'csv'", name: "snake.toml")
        let json = try read(#"{"max_tokens": 10, "exact_token_by_token": true, "checkpoint_interval": 500, "log_format": "csv"}"#, name: "snake.json")
        for file in [toml, json] {
            XCTAssertEqual(file.values, ["max-tokens": .integer(10), "exact-token-by-token": .bool(true), "checkpoint-interval": .integer(500),
                                         "log-format": .string("csv")])
            XCTAssertEqual(try RunRequest.resolve([file.given]).settings.maxTokens, 10)
            XCTAssertEqual(try RunRequest.resolve([file.given]).settings.logFormat, .csv)
        }
    }

    func testOneSettingUnderTwoSpellingsIsAnError() throws {
        let toml = try readingError("max-tokens = 1\n\nmax_tokens = 2\n", name: "twice.toml")
        XCTAssertEqual(toml?.line, 3)
        XCTAssertEqual(toml?.reason, "'max_tokens' sets max-tokens again, already set as 'max-tokens' on line 1")
        let json = try readingError("{\"max-tokens\": 1,\n \"max_tokens\": 2}", name: "twice.json")
        XCTAssertEqual(json?.line, 2)
        XCTAssertEqual(json?.reason, "'max_tokens' sets max-tokens again, already set as 'max-tokens' on line 1")
        let exact = try readingError("cache = 'dense'\ncache = '4+1020'", name: "exact.toml")
        XCTAssertEqual(exact?.description.hasSuffix("exact.toml: line 2: key 'cache' is already set on line 1"), true, exact?.description ?? "")
    }

    func testUnknownKeyNamesTheFileTheKeyAndTheAllowedKeys() throws {
        let allowed = "cache, checkpoint-interval, chunk-size, data, exact-token-by-token, jobs, log-format, max-tokens, model, out, positions, repeat, resume, shard"
        let tomlPath = try write("model = 'm.gguf'\n# comment\nmax_token = 5\n", name: "typo.toml")
        let toml = configurationError(tomlPath) { _ = try ConfigurationFile(path: tomlPath, allowedKeys: runKeys) }
        XCTAssertEqual(toml?.description, "\(tomlPath): line 3: unknown key 'max_token'; allowed keys: \(allowed)")
        let jsonPath = try write(#"{"model": "m.gguf", "windows": 3}"#, name: "typo.json")
        let json = configurationError(jsonPath) { _ = try ConfigurationFile(path: jsonPath, allowedKeys: runKeys) }
        XCTAssertEqual(json?.description, "\(jsonPath): line 1: unknown key 'windows'; allowed keys: \(allowed)")
    }

    func testTOMLSyntaxErrorsNameTheFileAndLine() throws {
        let path = try write("model = 'm.gguf'\n\n[run]\ncache = 'dense'\n", name: "table.toml")
        let error = configurationError(path) { _ = try ConfigurationFile(path: path, allowedKeys: runKeys) }
        XCTAssertEqual(error?.description, "\(path): line 3: tables are not supported ([section]); write every key at the top level")
        XCTAssertEqual(try readingError("cache = \"4\"\\n\"+1020\"", name: "quotes.toml")?.line, 1,
                       "a cache config in a basic string needs its quotes escaped")
        XCTAssertEqual(try readingError("data = [\n 'a',\n 'b'\n", name: "open.toml")?.reason, "the array opened on line 1 is not closed")
    }

    /// The schema's error for `text` read as a run request, after checking it names the file (and `line`).
    private func valueError(_ text: String, name: String, line expectedLine: Int?, file: StaticString = #filePath, line: UInt = #line) throws -> String? {
        let path = try write(text, name: name)
        do {
            _ = try RunRequest.resolve([ConfigurationFile(path: path, allowedKeys: runKeys).given])
            XCTFail("no error for \(text)", file: file, line: line)
        } catch let error as RunSettingsError {
            XCTAssertEqual(error.origin, .file(path: path, line: expectedLine), file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(path + ": " + (expectedLine.map { "line \($0): " } ?? "")), error.description, file: file, line: line)
            return error.problem
        }
        return nil
    }

    func testWrongTypesNameTheKeyTheLineAndTheExpectedType() throws {
        let cases: [(text: String, line: Int, problem: String)] = [
            ("cache = 'dense'\nmodel = 42\n", 2, "'model' must be a string, found 42"),
            ("cache = ['dense', 7]", 1, "'cache' must be a string or an array of strings, found [\"dense\", 7]"),
            ("max-tokens = 2.5", 1, "'max-tokens' must be a whole number, found 2.5"),
            ("\nresume = 'yes'", 2, "'resume' must be true or false, found \"yes\""),
            ("out = 5", 1, "'out' must be a string, found 5"),
            ("positions = 'sideways'", 1, "'positions' must be cache or original, found \"sideways\""),
            ("log-format = 'zip'", 1, "'log-format' must be gz or csv, found \"zip\""),
            ("shard = '3/3'", 1, "'shard' must be K/N with 0 <= K < N, found \"3/3\""),
            ("checkpoint-interval = -1", 1, "'checkpoint-interval' must be a number of seconds, at least 0, found -1"),
            ("cache = ['dense', '4-8']", 1, "'cache' must be a cache config (expected dense, x+y, x\"s\"+y, recompute:L, recompute:L/S, h2o:H+R or tova:N), found \"4-8\""),
            ("data = 'a'\n\nmax-tokens = 0", 3, "'max-tokens' must be at least 1, found 0"),
            ("repeat = 0", 1, "'repeat' must be at least 1, found 0"),
            ("chunk-size = 0", 1, "'chunk-size' must be at least 1, found 0"),
            ("cache = []", 1, "'cache' must be at least one cache config, found none"),
            ("cache = ['dense', '4+8', 'dense']", 1, "'cache' must be each config once, found \"dense\" twice"),
        ]
        for (index, (text, line, problem)) in cases.enumerated() {
            XCTAssertEqual(try valueError(text, name: "types\(index).toml", line: line), problem, text)
        }
        XCTAssertEqual(try valueError(#"{"positions": 1.0}"#, name: "positions.json", line: 1), "'positions' must be cache or original, found 1.0")
        XCTAssertEqual(try valueError("{\n\"max-tokens\": 0}", name: "zero.json", line: 2), "'max-tokens' must be at least 1, found 0",
                       "a JSON value's line")
        let whole = try RunRequest.resolve([read("chunk-size = 1e3\nmax-tokens = 100.0", name: "floats.toml").given]).settings
        XCTAssertEqual([whole.chunkSize, whole.maxTokens], [1000, 100], "a float that is a whole number is one")
    }

    func testJSONBooleansAndNumbersStayApart() throws {
        let file = try read(#"{"resume": 1, "exact-token-by-token": true, "chunk-size": 0, "shard": false, "max-tokens": 1e2, "positions": 1.0}"#,
                            name: "numbers.json")
        XCTAssertEqual(file.values, ["resume": .integer(1), "exact-token-by-token": .bool(true), "chunk-size": .integer(0),
                                     "shard": .bool(false), "max-tokens": .double(100), "positions": .double(1)])
        XCTAssertEqual(try valueError(#"{"resume": 1}"#, name: "one.json", line: 1), "'resume' must be true or false, found 1")
        XCTAssertEqual(try valueError(#"{"chunk-size": true}"#, name: "true.json", line: 1), "'chunk-size' must be a whole number, found true")
        XCTAssertEqual(try RunRequest.resolve([read(#"{"max-tokens": 1e2}"#, name: "exponent.json").given]).settings.maxTokens, 100)
    }

    func testJSONIntegersBeyondIntAreNotWrapped() throws {
        XCTAssertEqual(try valueError(#"{"repeat": -9223372036854775808}"#, name: "min.json", line: 1), "'repeat' must be at least 1, found -9223372036854775808",
                       "Int.min is a whole number")
        XCTAssertEqual(try valueError(#"{"max-tokens": 18446744073709551615}"#, name: "above.json", line: 1)?
            .hasPrefix("'max-tokens' must be a whole number"), true)
        XCTAssertEqual(try valueError(#"{"chunk-size": 99999999999999999999}"#, name: "far.json", line: 1)?
            .hasPrefix("'chunk-size' must be a whole number"), true)
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
            XCTAssertEqual(error?.line, reason.hasPrefix("'") ? 1 : nil, "a value's error has its line")
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
