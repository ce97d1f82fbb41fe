import XCTest
@testable import StreamPPL
@testable import StreamPPLKernels

/// The recording cache is plain dense causal attention from position 0, and what it records is a causal softmax.
final class AttentionRecordingCacheTests: XCTestCase {
    /// All logits of one pass of `tokens` through `cache`.
    static func logits(model: any LanguageModel, cache: KVCache, tokens: [Int32]) -> [Float] {
        let state = ForwardState(config: model.config, capacity: tokens.count)
        tokens.withUnsafeBufferPointer { model.forward($0, cache: cache, state: state, logitRows: 0 ..< tokens.count) }
        return Array(UnsafeBufferPointer(start: state.logits.values, count: tokens.count * model.config.vocabularySize))
    }

    func testLogitsMatchTheDenseStreamingCacheForEverySequence() throws {
        let (_, model) = try TinyLlama.model()
        let shape = AttentionShape(config: model.config)
        let recording = AttentionRecordingCache(shape: shape, rotary: RotaryEmbedding(config: model.config))
        var random = SplitMix64(seed: 5)
        // The same recording cache for both sequences: the second must not see the first.
        for _ in 0 ..< 2 {
            let tokens = (0 ..< 16).map { _ in Int32.random(in: 0 ..< Int32(TinyLlama.vocabulary), using: &random) }
            let dense = StreamingCache(shape: shape, rotary: RotaryEmbedding(config: model.config), sinks: 0, window: nil)
            let expected = Self.logits(model: model, cache: dense, tokens: tokens)
            let actual = Self.logits(model: model, cache: recording, tokens: tokens)
            XCTAssertEqual(actual.count, expected.count)
            let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
            print("recording vs dense streaming cache: max |dlogit| \(worst)")
            // Measured 1.24e-5 (2026-12-02, `swift test -c release -Xswiftc -enable-testing --filter AttentionRecordingCacheTests`); bound 5x.
            XCTAssertLessThan(worst, 7e-5)
        }
    }

    func testEveryRecordedRowIsACausalDistribution() throws {
        let (_, model) = try TinyLlama.model()
        let shape = AttentionShape(config: model.config)
        let cache = AttentionRecordingCache(shape: shape, rotary: RotaryEmbedding(config: model.config))
        let tokens = (0 ..< 16).map { Int32($0 * 37 % 256) }
        _ = Self.logits(model: model, cache: cache, tokens: tokens)
        XCTAssertEqual(cache.count, 16)
        var spread = false
        var worstSum: Float = 0
        for layer in 0 ..< shape.layers {
            for head in 0 ..< shape.heads {
                for query in 0 ..< 16 {
                    let row = (0 ..< 16).map { cache.probability(layer: layer, head: head, query: query, key: $0) }
                    worstSum = max(worstSum, abs(row[0 ... query].reduce(0, +) - 1))
                    // Measured 1.8e-7 at worst (2026-12-02, same command); bound 5x.
                    XCTAssertEqual(row[0 ... query].reduce(0, +), 1, accuracy: 1e-6, "layer \(layer) head \(head) query \(query)")
                    XCTAssertTrue(row[0 ... query].allSatisfy { $0 > 0 }, "every visible key gets some weight")
                    XCTAssertTrue(row[(query + 1)...].allSatisfy { $0 == 0 }, "no weight above the diagonal")
                    if query > 0, row[0 ... query].max() ?? 1 < 0.99 { spread = true }
                }
            }
        }
        print("recorded rows: max |sum - 1| \(worstSum)")
        XCTAssertTrue(spread, "a random model spreads attention over several keys")
    }

    /// A tiny Gemma-3 (layers 0 and 1 local with a 4-token window, layer 2 global): the recording pass must give
    /// the exact cache's logits, fed one token at a time, and a local layer must record no weight outside its window.
    func testLocalLayersMatchTheExactCacheAndStayInTheirWindow() throws {
        let window = 4, count = 12
        let path = try TinyLlama.writer(architecture: "gemma3", slidingWindow: window).write(name: "gemma3-window4.gguf")
        let model = try ModelRegistry.load(try GGUFFile(path: path))
        let shape = AttentionShape(config: model.config), rotary = RotaryEmbedding(config: model.config)
        let local = try XCTUnwrap(LocalAttention(config: model.config))
        XCTAssertEqual(local.layers, [true, true, false])
        let recording = AttentionRecordingCache(shape: shape, rotary: rotary, local: local)
        let tokens = (0 ..< count).map { Int32($0 * 37 % TinyLlama.vocabulary) }
        let actual = Self.logits(model: model, cache: recording, tokens: tokens)

        let exact = ExactCache(shape: shape, rotary: rotary, sinks: 0, window: nil, local: local)
        let state = ForwardState(config: model.config, capacity: 1)
        var expected: [Float] = []
        for token in tokens {
            [token].withUnsafeBufferPointer { model.forward($0, cache: exact, state: state, logitRows: 0 ..< 1) }
            expected += UnsafeBufferPointer(start: state.logits.values, count: model.config.vocabularySize)
        }
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
        print("gemma3 recording vs exact cache: max |dlogit| \(worst)")
        XCTAssertEqual(actual.count, expected.count)
        // Measured 4.8e-6 (2026-12-02, `swift test -c release -Xswiftc -enable-testing --filter AttentionRecordingCacheTests`); bound 5x.
        XCTAssertLessThan(worst, 2.4e-5)

        for layer in 0 ..< shape.layers {
            for head in 0 ..< shape.heads {
                for query in 0 ..< count {
                    let row = (0 ..< count).map { recording.probability(layer: layer, head: head, query: query, key: $0) }
                    let first = local.layers[layer] ? max(0, query - window + 1) : 0
                    XCTAssertTrue(row[..<first].allSatisfy { $0 == 0 }, "layer \(layer) query \(query): weight before the window")
                    XCTAssertTrue(row[first ... query].allSatisfy { $0 > 0 }, "layer \(layer) query \(query): a visible key without weight")
                }
            }
        }
    }
}
