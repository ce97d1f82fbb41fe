import XCTest
@testable import StreamPPL
@testable import StreamPPLKernels

/// ALiBi (METHOD.md §2): llama.cpp's slopes, biases taken at the positions the cache policy assigns, and the chunked
/// cache keeping METHOD.md §3's bar with them.
final class ALiBiTests: XCTestCase {
    /// llama.cpp's `soft_max` slopes worked out by hand: 4 heads (a power of two) and 6 (two interleaved from 2^-b/2n).
    func testSlopesAreLlamaCpps() throws {
        // n = 4, m0 = 2^(-8/4): 1/4, 1/16, 1/64, 1/256.
        XCTAssertEqual(ALiBi(headCount: 4, maxBias: 8).slopes, [0.25, 0.0625, 0.015625, 0.00390625])
        // n = 4, m0 = 2^(-8/4), m1 = 2^(-8/8): heads 4 and 5 get m1^1 and m1^3.
        XCTAssertEqual(ALiBi(headCount: 6, maxBias: 8).slopes, [0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125])
        var config = try TinyLlama.model().1.config
        XCTAssertNil(ALiBi(config: config))
        config.alibiMaxBias = 8
        XCTAssertEqual(ALiBi(config: config), ALiBi(headCount: TinyLlama.heads, maxBias: 8))
    }

    /// With zero queries and keys the scores are the bias alone, so each output is the softmax(-m_h · distance)-weighted
    /// mean of the values, here the keys' stream indices: computed from A(i) and the policy's positions, under `4+12`
    /// a query's bias to a sink uses the sink's slot against the query's rank, not their stream distance.
    func testSinksAreBiasedFromTheirSlotPositions() {
        let shape = AttentionShape(layers: 1, heads: 2, keyValueHeads: 1, headSize: 2)
        let alibi = ALiBi(headCount: 2, maxBias: 8)   // slopes 1/16, 1/256
        let (sinks, window, tokens) = (4, 12, 40)
        func expected(_ i: Int, head: Int, positions: PositionMode) -> Double {
            let keys = (0 ... i).filter { $0 < sinks || $0 >= i - window }
            func position(_ j: Int) -> Int { positions == .cache ? keys.firstIndex(of: j)! : j }
            let weights = keys.map { exp(-Double(alibi.slopes[head]) * Double(position(i) - position($0))) }
            return zip(keys, weights).reduce(0) { $0 + Double($1.0) * $1.1 } / weights.reduce(0, +)
        }
        // Sinks at their slots or at their stream indices make a difference far above the bound below: 3.5 (head 0, last token).
        XCTAssertGreaterThan(abs(expected(tokens - 1, head: 0, positions: .cache) - expected(tokens - 1, head: 0, positions: .original)), 3)

        var worst = 0.0
        for positions in PositionMode.allCases {
            let rotary = RotaryEmbedding(dimensions: 0, headSize: shape.headSize, base: 10_000)
            let caches: [(KVCache, passSize: Int)] = [
                (ExactCache(shape: shape, rotary: rotary, sinks: sinks, window: window, positions: positions, alibi: alibi), 1),
                (StreamingCache(shape: shape, rotary: rotary, sinks: sinks, window: window, positions: positions, alibi: alibi), 1),
                (StreamingCache(shape: shape, rotary: rotary, sinks: sinks, window: window, positions: positions, alibi: alibi), 7),
            ]
            for (cache, passSize) in caches {
                for start in stride(from: 0, to: tokens, by: passSize) {
                    let count = min(passSize, tokens - start)
                    var queries = [Float](repeating: 0, count: count * shape.queryWidth)
                    let keys = [Float](repeating: 0, count: count * shape.keyValueWidth)
                    let values = (start ..< start + count).flatMap { [Float($0), Float($0)] }
                    var output = [Float](repeating: .nan, count: count * shape.queryWidth)
                    cache.prepare(count: count)
                    queries.withUnsafeMutableBufferPointer { q in
                        output.withUnsafeMutableBufferPointer { out in
                            cache.attend(layer: 0, queries: q.baseAddress!, keys: keys, values: values, count: count, output: out.baseAddress!)
                        }
                    }
                    cache.commit(count: count)
                    for t in 0 ..< count {
                        for head in 0 ..< shape.heads {
                            let error = abs(Double(output[t * shape.queryWidth + head * shape.headSize]) - expected(start + t, head: head, positions: positions))
                            worst = max(worst, error)
                            XCTAssertLessThan(error, 3e-5, "\(type(of: cache)) pass \(passSize) \(positions) token \(start + t) head \(head)")
                        }
                    }
                }
            }
        }
        // Measured 5.5e-6 at worst (2026-12-02, `swift test -c release -Xswiftc -enable-testing --filter ALiBiTests`); bound ~5x.
        print("ALiBi sink positions, cache level: max |d output| \(worst)")
    }

    /// The tiny random Llama with its rotary taken away and ALiBi put in (`maxBias` nil: neither).
    static func model(maxBias: Float?) throws -> DecoderModel {
        let decoder = try XCTUnwrap(try TinyLlama.model().1 as? DecoderModel)
        var config = decoder.config
        config.ropeDimensions = 0
        config.alibiMaxBias = maxBias
        return DecoderModel(config: config, weights: decoder.weights)
    }

    static func cache(_ model: DecoderModel, exact: Bool, sinks: Int, window: Int?, positions: PositionMode) -> KVCache {
        let shape = AttentionShape(config: model.config), rotary = RotaryEmbedding(config: model.config), alibi = ALiBi(config: model.config)
        return exact
            ? ExactCache(shape: shape, rotary: rotary, sinks: sinks, window: window, positions: positions, alibi: alibi)
            : StreamingCache(shape: shape, rotary: rotary, sinks: sinks, window: window, positions: positions, alibi: alibi)
    }

    func testChunkedMatchesTokenByTokenWithALiBi() throws {
        let model = try Self.model(maxBias: 8)
        var random = SplitMix64(seed: 13)
        let tokens = (0 ..< 161).map { _ in Int32.random(in: 0 ..< Int32(TinyLlama.vocabulary), using: &random) }
        var worstOverall = 0.0
        for positions in PositionMode.allCases {
            for (sinks, window) in [(0, nil), (4, 12), (0, 16), (2, 6)] as [(Int, Int?)] {
                let exact = ChunkedVersusExactTests.nlls(model: model, cache: Self.cache(model, exact: true, sinks: sinks, window: window, positions: positions),
                                                         tokens: tokens, passSize: 1)
                for passSize in [1, 5, 64] {
                    let chunked = ChunkedVersusExactTests.nlls(model: model, cache: Self.cache(model, exact: false, sinks: sinks, window: window,
                                                                                              positions: positions),
                                                               tokens: tokens, passSize: passSize)
                    XCTAssertEqual(chunked.count, 160)
                    let worst = zip(exact, chunked).map { abs($0 - $1) }.max() ?? .infinity
                    worstOverall = max(worstOverall, worst)
                    // Measured 3.1e-5 at worst over every case (2026-12-02, same command); bound 5x.
                    XCTAssertLessThan(worst, 1.5e-4, "\(sinks)+\(window.map(String.init) ?? "dense") \(positions) pass \(passSize)")
                }
            }
        }
        print("ALiBi chunked vs token-by-token, tiny model: max |dNLL| \(worstOverall)")
    }

    /// The recording cache (Figure 2's maps) biases like the definition: one pass from position 0 against `dense` token by token.
    func testRecordingCacheBiasesLikeTheDefinition() throws {
        let model = try Self.model(maxBias: 8)
        let tokens = (0 ..< 17).map { Int32($0 * 37 % 256) }
        let recording = AttentionRecordingCache(shape: AttentionShape(config: model.config), rotary: RotaryEmbedding(config: model.config),
                                                alibi: ALiBi(config: model.config))
        let recorded = ChunkedVersusExactTests.nlls(model: model, cache: recording, tokens: tokens, passSize: 16)
        let exact = ChunkedVersusExactTests.nlls(model: model, cache: Self.cache(model, exact: true, sinks: 0, window: nil, positions: .cache),
                                                 tokens: tokens, passSize: 1)
        let worst = zip(recorded, exact).map { abs($0 - $1) }.max() ?? .infinity
        print("ALiBi recording vs token-by-token: max |dNLL| \(worst)")
        // Measured 1.2e-5 (2026-12-02, same command); bound 5x.
        XCTAssertLessThan(worst, 6e-5)
    }

    /// Without the bias a model with no rotary has no sense of order, so the bias must move the numbers.
    func testTheBiasChangesTheNumbers() throws {
        var random = SplitMix64(seed: 14)
        let tokens = (0 ..< 65).map { _ in Int32.random(in: 0 ..< Int32(TinyLlama.vocabulary), using: &random) }
        func nlls(maxBias: Float?) throws -> [Double] {
            let model = try Self.model(maxBias: maxBias)
            return ChunkedVersusExactTests.nlls(model: model, cache: Self.cache(model, exact: false, sinks: 0, window: nil, positions: .cache),
                                                tokens: tokens, passSize: 64)
        }
        let biased = try nlls(maxBias: 8), unbiased = try nlls(maxBias: nil)
        // The first token sees only itself: no distance, no bias.
        XCTAssertEqual(biased[0], unbiased[0], accuracy: 1e-9)
        let moved = zip(biased, unbiased).map { abs($0 - $1) }.max() ?? 0
        print("ALiBi vs none: max |dNLL| \(moved)")
        // Measured 11.8 (2026-12-02, same command); a fifth of it.
        XCTAssertGreaterThan(moved, 2.4)
    }
}
