import Foundation
import XCTest
@testable import StreamPPL

/// `streamppl latency` on the tiny model: one JSON object on stdout whose numbers agree, and one-line errors.
final class LatencyCommandTests: CLITestCase {
    func testJSONOutputIsOneConsistentObject() throws {
        let model = try tinyLlama(), data = try goodData()
        for (config, mode, cacheTokens, tokens) in [("4+8", "streaming", 12, 16), ("recompute:16", "recompute", 16, 4)] {
            let outcome = try run(["latency", "--model", model, "--data", data, "--cache", config, "--tokens", "\(tokens)", "--json"])
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            let point = try JSONDecoder().decode(LatencyMeasurement.self, from: Data(outcome.stdout.utf8))
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(point.config, config)
            XCTAssertEqual(point.mode.rawValue, mode)
            XCTAssertEqual(point.cacheTokens, cacheTokens)
            XCTAssertEqual(point.tokens, tokens)
            let milliseconds = try XCTUnwrap(object["ms_per_token"] as? Double), perSecond = try XCTUnwrap(object["tokens_per_second"] as? Double)
            XCTAssertEqual(milliseconds * Double(tokens), point.seconds * 1000, accuracy: 1e-6 * point.seconds * 1000, config)
            XCTAssertEqual(perSecond * point.seconds, Double(tokens), accuracy: 1e-6 * Double(tokens), config)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(point.peakResidentBytes), try XCTUnwrap(point.modelResidentBytes), config)
        }
    }

    func testTextOutputNamesTheConfigAndTheRate() throws {
        let outcome = try run(["latency", "--model", try tinyLlama(), "--data", try goodData(), "--cache", "2+6", "--tokens", "8"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.hasPrefix("2+6 (streaming, 8 cache tokens): "), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("ms per token"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("over 8 tokens"), outcome.stdout)
        XCTAssertTrue(outcome.stdout.contains("memory: peak "), outcome.stdout)
    }

    func testBadConfigsAndShortDataFailWithOneLine() throws {
        let model = try tinyLlama(), data = try goodData()
        for (config, mention) in [("dense", "'dense'"), ("recompute:16/4", "recompute:16"), ("4-8", "'4-8'")] {
            let outcome = try run(["latency", "--model", model, "--data", data, "--cache", config, "--json"])
            assertOneLineFailure(outcome, mentions: [mention], config)
            XCTAssertEqual(outcome.stdout, "", "\(config): nothing on stdout")
        }
        assertOneLineFailure(try run(["latency", "--model", model, "--data", data, "--cache", "4+8", "--tokens", "0"]),
                             mentions: ["--tokens"], "zero tokens")
        // goodData holds 52 predictions.
        assertOneLineFailure(try run(["latency", "--model", model, "--data", data, "--cache", "4+8", "--tokens", "41"]),
                             mentions: [data, "53"], "data too short")
    }
}
