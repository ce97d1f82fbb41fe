import XCTest
@testable import StreamPPL
@testable import StreamPPLKernels

/// The architecture layer: each architecture's file is picked by `general.architecture`, needs its own tensors and
/// keys, and keeps METHOD.md §3's bar (chunked = token-by-token) under every policy, local layers included.
final class ArchitectureTests: XCTestCase {
    func testEachArchitectureLoadsItsOwnBlock() throws {
        for architecture in ["llama", "qwen2", "gemma3"] {
            let (_, model) = try TinyLlama.model(architecture: architecture)
            XCTAssertEqual(model.config.architecture, architecture)
            XCTAssertEqual(model.config.block, ModelRegistry.architecture(named: architecture)?.block)
        }
        let (_, gemma) = try TinyLlama.model(architecture: "gemma3")
        XCTAssertEqual(gemma.config.slidingWindow, SlidingWindow(size: 8, localLayers: [true, true, false], ropeBase: 10_000))
        XCTAssertEqual(gemma.config.rotaryPairing, .halves)
    }

    func testChunkedMatchesTokenByTokenForEveryArchitecture() throws {
        var random = SplitMix64(seed: 5)
        let tokens = (0 ..< 161).map { _ in Int32.random(in: 0 ..< Int32(TinyLlama.vocabulary), using: &random) }
        var worstOverall = 0.0
        for architecture in ["qwen2", "gemma3"] {
            let (_, model) = try TinyLlama.model(architecture: architecture)
            let shape = AttentionShape(config: model.config)
            // Windows below, at and above the local window of 8, so local layers hide sinks and window keys alike.
            for positions in PositionMode.allCases {
                for (sinks, window) in [(0, nil), (4, 12), (0, 16), (2, 6), (1, 7)] as [(Int, Int?)] {
                    func cache(exact: Bool) -> KVCache {
                        let rotary = RotaryEmbedding(config: model.config), local = LocalAttention(config: model.config)
                        return exact
                            ? ExactCache(shape: shape, rotary: rotary, sinks: sinks, window: window, positions: positions, local: local)
                            : StreamingCache(shape: shape, rotary: rotary, sinks: sinks, window: window, positions: positions, local: local)
                    }
                    let exact = ChunkedVersusExactTests.nlls(model: model, cache: cache(exact: true), tokens: tokens, passSize: 1)
                    for passSize in [1, 5, 64] {
                        let chunked = ChunkedVersusExactTests.nlls(model: model, cache: cache(exact: false), tokens: tokens, passSize: passSize)
                        XCTAssertEqual(chunked.count, 160)
                        worstOverall = max(worstOverall, zip(exact, chunked).map { abs($0 - $1) }.max() ?? .infinity)
                    }
                }
            }
        }
        print("qwen2/gemma3 chunked vs token-by-token: max |dNLL| \(worstOverall)")
        XCTAssertLessThan(worstOverall, 1e-4)
    }

    /// A local layer's window must change the numbers once the stream outgrows it, or the mask is not applied.
    func testLocalWindowMattersOnceTheStreamOutgrowsIt() throws {
        var random = SplitMix64(seed: 9)
        let tokens = (0 ..< 41).map { _ in Int32.random(in: 0 ..< Int32(TinyLlama.vocabulary), using: &random) }
        func nlls(slidingWindow: Int) throws -> [Double] {
            let gguf = try GGUFFile(path: try TinyLlama.writer(architecture: "gemma3", slidingWindow: slidingWindow).write())
            let model = try ModelRegistry.load(gguf)
            let cache = StreamingCache(shape: AttentionShape(config: model.config), rotary: RotaryEmbedding(config: model.config),
                                       sinks: 0, window: nil, local: LocalAttention(config: model.config))
            return ChunkedVersusExactTests.nlls(model: model, cache: cache, tokens: tokens, passSize: 40)
        }
        let narrow = try nlls(slidingWindow: 8), wide = try nlls(slidingWindow: 64)
        // Queries 0..7 see all their keys under both windows; from query 8 on the narrow window hides some.
        for t in 0 ..< 8 { XCTAssertEqual(narrow[t], wide[t], accuracy: 1e-9) }
        XCTAssertGreaterThan(zip(narrow[8...], wide[8...]).map { abs($0 - $1) }.max() ?? 0, 1e-3)
    }

    func testMissingArchitectureTensorOrKeyIsNamed() throws {
        let qwen = TinyLlama.writer(architecture: "qwen2")
        var withoutBias = GGUFWriter()
        for (name, value) in qwen.metadata { withoutBias.set(name, value) }
        for tensor in qwen.tensors where tensor.name != "blk.1.attn_k.bias" {
            withoutBias.addTensor(tensor.name, dimensions: tensor.dimensions, type: tensor.type, data: tensor.data)
        }
        let qwenPath = try withoutBias.write(name: "qwen-no-bias.gguf")
        XCTAssertThrowsError(try ModelRegistry.load(try GGUFFile(path: qwenPath))) { error in
            XCTAssertEqual(error as? ModelError, .missingTensor(path: qwenPath, tensor: "blk.1.attn_k.bias"))
        }
        let gemmaPath = try CLITestCase.removing("gemma3.attention.sliding_window", from: TinyLlama.writer(architecture: "gemma3"))
            .write(name: "gemma-no-window.gguf")
        XCTAssertThrowsError(try ModelRegistry.load(try GGUFFile(path: gemmaPath))) { error in
            XCTAssertEqual(error as? ModelError, .missingKey(path: gemmaPath, key: "gemma3.attention.sliding_window"))
        }
    }

    func testUnsupportedArchitectureListsTheSupportedOnes() throws {
        let path = try TinyLlama.writer(architecture: "mamba").write(name: "mamba.gguf")
        XCTAssertThrowsError(try ModelRegistry.load(try GGUFFile(path: path))) { error in
            XCTAssertEqual("\(error)", "\(path): unsupported architecture 'mamba' (general.architecture); supported: llama, qwen2, gemma3")
        }
    }
}
