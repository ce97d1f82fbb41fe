import XCTest
@testable import StreamPPL
@testable import StreamPPLKernels

/// The architecture layer: each architecture's file is picked by `general.architecture`, needs its own tensors and
/// keys, and keeps METHOD.md §3's bar (chunked = token-by-token) under every policy, local layers included.
final class ArchitectureTests: XCTestCase {
    func testEachArchitectureLoadsItsOwnBlock() throws {
        for architecture in ModelRegistry.architectures {
            let (_, model) = try TinyLlama.model(architecture: architecture)
            XCTAssertEqual(model.config.architecture, architecture)
            var expected = ModelRegistry.architecture(named: architecture)?.block
            if architecture == "gptneox" { expected?.parallelResidual = true }  // the file's use_parallel_residual
            XCTAssertEqual(model.config.block, expected, architecture)
        }
        let (_, gemma) = try TinyLlama.model(architecture: "gemma3")
        XCTAssertEqual(gemma.config.slidingWindow, SlidingWindow(size: 8, localLayers: [true, true, false], ropeBase: 10_000))
        XCTAssertEqual(gemma.config.rotaryPairing, .halves)
        let (_, neox) = try TinyLlama.model(architecture: "gptneox")
        XCTAssertEqual(neox.config.ropeDimensions, 2, "a quarter of the head of 8 rotates")
        XCTAssertTrue(neox.config.block.parallelResidual)
        let (_, mpt) = try TinyLlama.model(architecture: "mpt")
        XCTAssertEqual(mpt.config.ropeDimensions, 0)
        XCTAssertEqual(mpt.config.alibiMaxBias, 8)
        XCTAssertEqual(mpt.config.queryKeyValueClamp, 1.5)
    }

    /// With no rotating dimensions (MPT) rotary leaves every head as it was, in place or copied.
    func testRotaryWithoutDimensionsIsTheIdentity() {
        let rotary = RotaryEmbedding(dimensions: 0, headSize: 8, base: 10_000)
        rotary.reserve(positions: 4)
        var head = (0 ..< 16).map(Float.init), copy = [Float](repeating: -1, count: 16)
        head.withUnsafeBufferPointer { source in
            copy.withUnsafeMutableBufferPointer { rotary.rotate(source.baseAddress!, into: $0.baseAddress!, headCount: 2, position: 3) }
        }
        head.withUnsafeMutableBufferPointer { rotary.rotate($0.baseAddress!, headCount: 2, position: 1_000) }
        XCTAssertEqual(copy, (0 ..< 16).map(Float.init))
        XCTAssertEqual(head, (0 ..< 16).map(Float.init))
    }

    func testChunkedMatchesTokenByTokenForEveryArchitecture() throws {
        var random = SplitMix64(seed: 5)
        let tokens = (0 ..< 161).map { _ in Int32.random(in: 0 ..< Int32(TinyLlama.vocabulary), using: &random) }
        var worst: [String: Double] = [:]
        let sequentialNeoX = try ModelRegistry.load(try GGUFFile(path: try TinyLlama.writer(architecture: "gptneox", parallelResidual: false).write()))
        let models = try ["qwen2", "qwen3", "gemma3", "gptneox", "falcon", "mpt"].map { ($0, try TinyLlama.model(architecture: $0).1) }
            + [("gptneox sequential", sequentialNeoX)]
        for (architecture, model) in models {
            let shape = AttentionShape(config: model.config)
            // Windows below, at and above the local window of 8, so local layers hide sinks and window keys alike.
            for positions in PositionMode.allCases {
                for (sinks, window) in [(0, nil), (4, 12), (0, 16), (2, 6), (1, 7)] as [(Int, Int?)] {
                    func cache(exact: Bool) -> KVCache {
                        let rotary = RotaryEmbedding(config: model.config), local = LocalAttention(config: model.config)
                        let alibi = ALiBi(config: model.config)
                        return exact
                            ? ExactCache(shape: shape, rotary: rotary, sinks: sinks, window: window, positions: positions, local: local, alibi: alibi)
                            : StreamingCache(shape: shape, rotary: rotary, sinks: sinks, window: window, positions: positions, local: local, alibi: alibi)
                    }
                    let exact = ChunkedVersusExactTests.nlls(model: model, cache: cache(exact: true), tokens: tokens, passSize: 1)
                    for passSize in [1, 5, 64] {
                        let chunked = ChunkedVersusExactTests.nlls(model: model, cache: cache(exact: false), tokens: tokens, passSize: passSize)
                        XCTAssertEqual(chunked.count, 160)
                        worst[architecture] = max(worst[architecture] ?? 0, zip(exact, chunked).map { abs($0 - $1) }.max() ?? .infinity)
                    }
                }
            }
        }
        // Measured max |dNLL| (2026-12-02, `swift test -c release -Xswiftc -enable-testing --filter ArchitectureTests`):
        // qwen2 3.4e-5, qwen3 2.4e-5, gemma3 1.3e-5, falcon 1.7e-5, mpt 1.2e-5, gptneox 3.2e-6 (sequential 3.0e-6); bound 3x the worst.
        for (architecture, difference) in worst.sorted(by: { $0.key < $1.key }) {
            print("\(architecture) chunked vs token-by-token: max |dNLL| \(difference)")
            XCTAssertLessThan(difference, 1e-4, architecture)
        }
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

    /// MPT has no rotary: without its ALiBi biases the model would not see positions, so they must change the numbers.
    func testMPTPositionsComeFromALiBi() throws {
        let (_, model) = try TinyLlama.model(architecture: "mpt")
        var random = SplitMix64(seed: 13)
        let tokens = (0 ..< 41).map { _ in Int32.random(in: 0 ..< Int32(TinyLlama.vocabulary), using: &random) }
        func nlls(_ alibi: ALiBi?) -> [Double] {
            let cache = StreamingCache(shape: AttentionShape(config: model.config), rotary: RotaryEmbedding(config: model.config),
                                       sinks: 0, window: nil, alibi: alibi)
            return ChunkedVersusExactTests.nlls(model: model, cache: cache, tokens: tokens, passSize: 40)
        }
        let biased = nlls(ALiBi(config: model.config)), unbiased = nlls(nil)
        XCTAssertEqual(biased[0], unbiased[0], accuracy: 1e-9, "the first query sees only itself, at distance 0")
        XCTAssertGreaterThan(zip(biased, unbiased).map { abs($0 - $1) }.max() ?? 0, 1e-3)
    }

    /// Falcon-40B's `attn_norm_2` normalizes the attention's input; the feed-forward keeps reading `attn_norm`.
    func testFalconSecondNormFeedsTheAttentionOnly() throws {
        var random = SplitMix64(seed: 17)
        let tokens = (0 ..< 41).map { _ in Int32.random(in: 0 ..< Int32(TinyLlama.vocabulary), using: &random) }
        func nlls(secondNorm: ((name: String, dimensions: [Int], type: UInt32, data: [UInt8])) -> [UInt8]?) throws -> [Double] {
            var writer = TinyLlama.writer(architecture: "falcon")
            for tensor in writer.tensors where tensor.name.hasPrefix("blk.") && tensor.name.contains(".attn_norm.") {
                if let data = secondNorm(tensor) {
                    writer.addTensor(tensor.name.replacingOccurrences(of: ".attn_norm.", with: ".attn_norm_2."),
                                     dimensions: tensor.dimensions, type: tensor.type, data: data)
                }
            }
            let model = try ModelRegistry.load(try GGUFFile(path: try writer.write()))
            let cache = StreamingCache(shape: AttentionShape(config: model.config), rotary: RotaryEmbedding(config: model.config),
                                       sinks: 0, window: nil)
            return ChunkedVersusExactTests.nlls(model: model, cache: cache, tokens: tokens, passSize: 40)
        }
        let single = try nlls { _ in nil }
        let same = try nlls { $0.data }
        let zeroBias = try nlls { $0.name.hasSuffix(".bias") ? Array(repeating: 0, count: $0.data.count) : $0.data }
        XCTAssertEqual(single, same, "attn_norm_2 equal to attn_norm changes nothing")
        XCTAssertGreaterThan(zip(single, zeroBias).map { abs($0 - $1) }.max() ?? 0, 1e-3, "a different attn_norm_2 must matter")
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

    func testEachNewFamilyNamesWhatItMisses() throws {
        func assertLoadFails(_ writer: GGUFWriter, with error: (String) -> ModelError, file: StaticString = #filePath, line: UInt = #line) throws {
            let path = try writer.write()
            XCTAssertThrowsError(try ModelRegistry.load(try GGUFFile(path: path)), file: file, line: line) { thrown in
                XCTAssertEqual(thrown as? ModelError, error(path), "\(thrown)", file: file, line: line)
            }
        }
        func without(_ tensor: String, _ architecture: String) -> GGUFWriter {
            let full = TinyLlama.writer(architecture: architecture)
            var writer = GGUFWriter()
            for (name, value) in full.metadata { writer.set(name, value) }
            for t in full.tensors where t.name != tensor { writer.addTensor(t.name, dimensions: t.dimensions, type: t.type, data: t.data) }
            return writer
        }
        for (architecture, tensor) in [("gptneox", "blk.0.attn_qkv.bias"), ("gptneox", "blk.1.ffn_down.bias"), ("gptneox", "output_norm.bias"),
                                       ("gptneox", "output.weight"), ("falcon", "blk.0.attn_qkv.weight"), ("falcon", "blk.1.attn_norm.bias"),
                                       ("qwen3", "blk.1.attn_k_norm.weight"), ("mpt", "blk.0.attn_qkv.weight"), ("mpt", "blk.1.ffn_up.weight")] {
            try assertLoadFails(without(tensor, architecture)) { .missingTensor(path: $0, tensor: tensor) }
        }
        for (architecture, key) in [("gptneox", "gptneox.use_parallel_residual"), ("falcon", "falcon.attention.layer_norm_epsilon"),
                                    ("mpt", "mpt.attention.layer_norm_epsilon")] {
            try assertLoadFails(CLITestCase.removing(key, from: TinyLlama.writer(architecture: architecture))) { .missingKey(path: $0, key: key) }
        }
        var learnedPositions = TinyLlama.writer(architecture: "mpt")
        learnedPositions.addFloatTensor("position_embd.weight", dimensions: [TinyLlama.dim, 128], values: Array(repeating: 0, count: TinyLlama.dim * 128))
        try assertLoadFails(learnedPositions) { .unsupportedTensor(path: $0, tensor: "position_embd.weight", architecture: "mpt") }
        var quarterRotary = TinyLlama.writer(architecture: "falcon")
        quarterRotary.set("falcon.rope.dimension_count", .uint32(2))
        try assertLoadFails(quarterRotary) { .invalidValue(path: $0, key: "falcon.rope.dimension_count", value: "2", expected: "the head size 8") }
        // A mistyped key of an architecture's own is an error naming it, not taken for a missing one or a default.
        for (architecture, key, value, expected) in [("gemma3", "gemma3.attention.sliding_window", GGUFValue.string("4"), "an integer"),
                                                     ("gptneox", "gptneox.use_parallel_residual", .uint8(1), "a boolean"),
                                                     ("mpt", "mpt.attention.max_alibi_bias", .float32(-8), "a finite number, 0 or more")] {
            var mistyped = CLITestCase.removing(key, from: TinyLlama.writer(architecture: architecture))
            mistyped.set(key, value)
            try assertLoadFails(mistyped) { .invalidValue(path: $0, key: key, value: value.summary, expected: expected) }
        }
        // MPT's biases are optional, as in llama.cpp: a file without them loads.
        XCTAssertNoThrow(try ModelRegistry.load(try GGUFFile(path: try without("blk.0.attn_norm.bias", "mpt").write())))
    }

    /// Qwen3 with Q, K and V fused in `attn_qkv` (llama.cpp takes either form) is the same model as with them apart.
    func testQwen3TakesAFusedQueryKeyValue() throws {
        let separate = TinyLlama.writer(architecture: "qwen3")
        var fused = GGUFWriter()
        for (name, value) in separate.metadata { fused.set(name, value) }
        for t in separate.tensors where !t.name.hasSuffix(".attn_k.weight") && !t.name.hasSuffix(".attn_v.weight") {
            guard t.name.hasSuffix(".attn_q.weight") else {
                fused.addTensor(t.name, dimensions: t.dimensions, type: t.type, data: t.data)
                continue
            }
            // GGUF's first dimension is the row length: Q's rows, then K's, then V's, one after the other.
            let layer = t.name.dropLast("attn_q.weight".count)
            let parts = ["attn_q", "attn_k", "attn_v"].map { part in separate.tensors.first { $0.name == layer + part + ".weight" }! }
            fused.addTensor(layer + "attn_qkv.weight", dimensions: [t.dimensions[0], parts.map { $0.dimensions[1] }.reduce(0, +)],
                            type: t.type, data: parts.flatMap(\.data))
        }
        XCTAssertFalse(fused.tensors.contains { $0.name.hasSuffix("attn_q.weight") })
        let tokens = (0 ..< 12).map { Int32($0 * 37 % TinyLlama.vocabulary) }
        func logits(_ writer: GGUFWriter) throws -> [Float] {
            let model = try ModelRegistry.load(try GGUFFile(path: try writer.write()))
            let cache = StreamingCache(shape: AttentionShape(config: model.config), rotary: RotaryEmbedding(config: model.config),
                                       sinks: 0, window: nil)
            return AttentionRecordingCacheTests.logits(model: model, cache: cache, tokens: tokens)
        }
        // The fused matrix is split into the same rows at load: the same products, bit for bit.
        XCTAssertEqual(try logits(fused), try logits(separate))
    }

    /// The memory estimate counts the activations the forward state allocates: one feed-forward buffer fewer when ungated.
    func testActivationEstimateIsWhatTheForwardStateAllocates() throws {
        for architecture in ["llama", "gemma3", "gptneox", "falcon", "mpt"] {
            let (_, model) = try TinyLlama.model(architecture: architecture)
            let state = ForwardState(config: model.config, capacity: 5, scoredCapacity: 0)
            let matrices = [state.hidden, state.normed, state.queries, state.keys, state.values, state.attention, state.projected,
                            state.gate, state.up]
            XCTAssertEqual(matrices.map { $0.rows * $0.columns }.reduce(0, +), 5 * ForwardState.activationWidth(model.config), architecture)
            XCTAssertEqual(state.up.rows, model.config.block.feedForward.isGated ? 5 : 0, architecture)
        }
    }

    func testUnsupportedArchitectureListsTheSupportedOnes() throws {
        let path = try TinyLlama.writer(architecture: "mamba").write(name: "mamba.gguf")
        XCTAssertThrowsError(try ModelRegistry.load(try GGUFFile(path: path))) { error in
            XCTAssertEqual("\(error)", "\(path): unsupported architecture 'mamba' (general.architecture); supported: llama, qwen2, qwen3, gemma3, gptneox, falcon, mpt")
        }
    }
}
