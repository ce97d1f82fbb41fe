import Foundation
import XCTest
@testable import StreamPPL

/// Figure 10's latency points on the tiny model: which path each config is timed on, the numbers they report,
/// their JSON, and the configs and data that cannot give a point.
final class LatencyMeasurementTests: TemporaryFilesTestCase {
    /// 52 predictions: one byte per token in the tiny vocabulary.
    func benchmark() throws -> ThroughputBenchmark {
        let folder = try keep(TemporaryFiles.directory())
        try Data("It was the best of times, it was the worst of times.\n".utf8).write(to: URL(fileURLWithPath: folder + "/book.txt"))
        let gguf = try GGUFFile(path: try keep(TinyLlama.writer().write()))
        return ThroughputBenchmark(evaluator: Evaluator(model: try ModelRegistry.load(gguf), tokenizer: try Tokenizer(gguf: gguf)),
                                   dataset: try Dataset(path: folder))
    }

    func testStreamingTimesTheRequestedTokensAfterTheCacheHasFilled() throws {
        let point = try benchmark().measureLatency(try CacheConfig("4+8"), tokens: 40)
        XCTAssertEqual(point.config, "4+8")
        XCTAssertEqual(point.mode, .streaming)
        XCTAssertEqual(point.cacheTokens, 12)
        XCTAssertEqual(point.tokens, 40)
        XCTAssertGreaterThan(point.seconds, 0)
        XCTAssertEqual(point.millisecondsPerToken * 40, point.seconds * 1000, accuracy: 1e-9)
        XCTAssertEqual(point.tokensPerSecond, 40 / point.seconds, accuracy: 1e-9)
        let model = try XCTUnwrap(point.modelResidentBytes), peak = try XCTUnwrap(point.peakResidentBytes)
        XCTAssertGreaterThan(model, 1_000_000)
        XCTAssertGreaterThanOrEqual(peak, model)
    }

    func testRecomputeTimesOnePassPerToken() throws {
        let point = try benchmark().measureLatency(try CacheConfig("recompute:16"), tokens: 3)
        XCTAssertEqual(point.mode, .recompute)
        XCTAssertEqual(point.cacheTokens, 16)
        XCTAssertEqual(point.tokens, 3)
        XCTAssertEqual(point.millisecondsPerToken * 3, point.seconds * 1000, accuracy: 1e-9)
    }

    func testPlanGivesTheModeAndTheSteadyStateCacheSize() throws {
        for (text, mode, cacheTokens) in [("4+1020", LatencyMeasurement.Mode.streaming, 1024), ("0+256", .streaming, 256),
                                          ("4\"\\n\"+252", .streaming, 256), ("recompute:1024", .recompute, 1024),
                                          ("recompute:512/1", .recompute, 512)] {
            let plan = try LatencyMeasurement.plan(for: try CacheConfig(text))
            XCTAssertEqual(plan.mode, mode, text)
            XCTAssertEqual(plan.cacheTokens, cacheTokens, text)
        }
    }

    func testDenseAndStridedRecomputeHaveNoPoint() throws {
        let benchmark = try benchmark()
        for text in ["dense", "recompute:16/4"] {
            XCTAssertThrowsError(try benchmark.measureLatency(try CacheConfig(text), tokens: 3), text) { error in
                guard case let .unsupportedConfig(config, _)? = error as? LatencyError else { return XCTFail("\(text): \(error)") }
                XCTAssertEqual(config, text)
                XCTAssertTrue("\(error)".contains("'\(text)'"), "\(error)")
            }
        }
    }

    func testDataTooShortForCachePlusTimedTokensNamesTheDataAndTheCount() throws {
        let benchmark = try benchmark()
        // 52 predictions: 4+8 with 41 timed needs 53, recompute:53 needs 53.
        for (text, tokens) in [("4+8", 41), ("recompute:53", 1)] {
            XCTAssertThrowsError(try benchmark.measureLatency(try CacheConfig(text), tokens: tokens), text) { error in
                XCTAssertEqual(error as? LatencyError, .dataTooShort(data: benchmark.dataset.path, config: text, needed: 53))
                XCTAssertTrue("\(error)".hasPrefix(benchmark.dataset.path + ": fewer than 53 predictions"), "\(error)")
            }
        }
        XCTAssertEqual(try benchmark.measureLatency(try CacheConfig("4+8"), tokens: 40).tokens, 40, "52 = 12 + 40 is enough")
    }

    func testJSONHasEveryKeyAndReadsBack() throws {
        let point = LatencyMeasurement(config: "4+1020", mode: .streaming, cacheTokens: 1024, tokens: 128, seconds: 2,
                                       peakResidentBytes: 900_000_000, modelResidentBytes: nil)
        let text = try point.json()
        XCTAssertFalse(text.contains("\n"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["config", "mode", "cache_tokens", "tokens", "seconds", "ms_per_token", "tokens_per_second",
                                          "peak_rss_bytes", "model_rss_bytes"])
        XCTAssertEqual(object["mode"] as? String, "streaming")
        XCTAssertEqual(object["cache_tokens"] as? Int, 1024)
        XCTAssertEqual(object["ms_per_token"] as? Double, 15.625)
        XCTAssertEqual(object["tokens_per_second"] as? Double, 64)
        XCTAssertEqual(object["peak_rss_bytes"] as? Int, 900_000_000)
        XCTAssertTrue(object["model_rss_bytes"] is NSNull, "unknown memory is null, not missing")
        XCTAssertEqual(try JSONDecoder().decode(LatencyMeasurement.self, from: Data(text.utf8)), point)
    }
}
