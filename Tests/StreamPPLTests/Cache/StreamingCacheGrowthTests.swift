import XCTest
@testable import StreamPPL
@testable import StreamPPLKernels

/// `run --dry-run` sizes a dense job by what its cache will have allocated (`StreamingCache.unboundedGrowth`); that must
/// follow the cache's own growth, pass after pass.
final class StreamingCacheGrowthTests: XCTestCase {
    func testUnboundedGrowthFollowsADenseCache() {
        let shape = AttentionShape(layers: 1, heads: 3, keyValueHeads: 1, headSize: 2)
        let rotary = RotaryEmbedding(dimensions: 0, headSize: shape.headSize, base: 10_000)
        let tokens = 3000
        for pass in [1, 7, 64, 256] {
            let cache = StreamingCache(shape: shape, rotary: rotary, sinks: 0, window: nil)
            var fed = 0, scorePeak = cache.scores.capacity
            while fed < tokens {
                let count = min(pass, tokens - fed), before = cache.scores.capacity
                cache.prepare(count: count)
                cache.commit(count: count)
                fed += count
                if cache.scores.capacity != before { scorePeak = max(scorePeak, before + cache.scores.capacity) }
                let expected = StreamingCache.unboundedGrowth(after: fed, passTokens: pass, heads: shape.heads)
                XCTAssertEqual(cache.windowRows, expected.rows, "window rows after \(fed) tokens in passes of \(pass)")
                XCTAssertEqual(cache.scores.capacity, expected.scoreFloats, "scores after \(fed) tokens in passes of \(pass)")
                XCTAssertEqual(scorePeak, expected.scorePeakFloats, "scores while copied, after \(fed) tokens in passes of \(pass)")
            }
            XCTAssertGreaterThanOrEqual(cache.windowRows, tokens)
        }
    }
}
