import Foundation
@testable import StreamPPL

/// A tiny random Llama in GGUF form: 2 layers, 4 query heads sharing 2 key/value heads, a byte-level
/// vocabulary of 256 tokens (one per byte, no merges) so that any ASCII text tokenizes. With another
/// `architecture` its keys take that prefix and it gets the tensors and keys that architecture needs
/// (qwen2: Q/K/V biases; gemma3: Q/K norms, post-norms, a 3-layer stack whose last layer is global and a
/// sliding window of `slidingWindow`).
enum TinyLlama {
    static let dim = 32, heads = 4, kvHeads = 2, layers = 2, feedForward = 48, vocabulary = 256

    static func writer(seed: UInt64 = 7, architecture: String = "llama", tied: Bool = true, slidingWindow: Int = 8) -> GGUFWriter {
        let a = architecture
        let layers = architecture == "gemma3" ? 3 : Self.layers
        var random = SplitMix64(seed: seed)
        var writer = GGUFWriter()
        writer.set("general.architecture", .string(architecture))
        writer.set("general.name", .string("tiny random llama"))
        writer.set("\(a).block_count", .uint32(UInt32(layers)))
        writer.set("\(a).context_length", .uint32(128))
        writer.set("\(a).embedding_length", .uint32(UInt32(dim)))
        writer.set("\(a).feed_forward_length", .uint32(UInt32(feedForward)))
        writer.set("\(a).attention.head_count", .uint32(UInt32(heads)))
        writer.set("\(a).attention.head_count_kv", .uint32(UInt32(kvHeads)))
        writer.set("\(a).rope.freq_base", .float32(10_000))
        writer.set("\(a).attention.layer_norm_rms_epsilon", .float32(1e-5))
        if architecture == "gemma3" {
            writer.set("gemma3.attention.sliding_window", .uint32(UInt32(slidingWindow)))
            writer.set("gemma3.attention.sliding_window_pattern", .uint32(3))
        }
        writer.set("tokenizer.ggml.model", .string("gpt2"))
        writer.set("tokenizer.ggml.pre", .string("gpt2"))
        writer.set("tokenizer.ggml.tokens", .array(byteLevelTokens().map(GGUFValue.string)))
        writer.set("tokenizer.ggml.token_type", .array(Array(repeating: .int32(1), count: vocabulary)))
        writer.set("tokenizer.ggml.merges", .array([]))
        writer.set("tokenizer.ggml.add_bos_token", .bool(false))

        func matrix(_ name: String, rows: Int, columns: Int) {
            let scale = 1 / Float(columns).squareRoot()
            writer.addFloatTensor(name, dimensions: [columns, rows], values: (0 ..< rows * columns).map { _ in random.nextGaussian() * scale * 1.5 })
        }
        func norm(_ name: String, width: Int = dim) {
            writer.addFloatTensor(name, dimensions: [width], values: (0 ..< width).map { _ in 1 + 0.1 * random.nextGaussian() })
        }
        func bias(_ name: String, width: Int) {
            writer.addFloatTensor(name, dimensions: [width], values: (0 ..< width).map { _ in 0.3 * random.nextGaussian() })
        }
        let headSize = dim / heads
        writer.addFloatTensor("token_embd.weight", dimensions: [dim, vocabulary],
                              values: (0 ..< dim * vocabulary).map { _ in random.nextGaussian() })
        for layer in 0 ..< layers {
            norm("blk.\(layer).attn_norm.weight")
            matrix("blk.\(layer).attn_q.weight", rows: dim, columns: dim)
            matrix("blk.\(layer).attn_k.weight", rows: kvHeads * headSize, columns: dim)
            matrix("blk.\(layer).attn_v.weight", rows: kvHeads * headSize, columns: dim)
            if architecture == "qwen2" {
                bias("blk.\(layer).attn_q.bias", width: dim)
                bias("blk.\(layer).attn_k.bias", width: kvHeads * headSize)
                bias("blk.\(layer).attn_v.bias", width: kvHeads * headSize)
            }
            if architecture == "gemma3" {
                norm("blk.\(layer).attn_q_norm.weight", width: headSize)
                norm("blk.\(layer).attn_k_norm.weight", width: headSize)
                norm("blk.\(layer).post_attention_norm.weight")
                norm("blk.\(layer).post_ffw_norm.weight")
            }
            matrix("blk.\(layer).attn_output.weight", rows: dim, columns: dim)
            norm("blk.\(layer).ffn_norm.weight")
            matrix("blk.\(layer).ffn_gate.weight", rows: feedForward, columns: dim)
            matrix("blk.\(layer).ffn_up.weight", rows: feedForward, columns: dim)
            matrix("blk.\(layer).ffn_down.weight", rows: dim, columns: feedForward)
        }
        norm("output_norm.weight")
        if !tied { matrix("output.weight", rows: vocabulary, columns: dim) }
        return writer
    }

    static func model(seed: UInt64 = 7, architecture: String = "llama") throws -> (GGUFFile, any LanguageModel) {
        let gguf = try GGUFFile(path: try writer(seed: seed, architecture: architecture).write())
        return (gguf, try ModelRegistry.load(gguf))
    }

    /// GPT-2's byte-to-unicode map: printable bytes stand for themselves, the rest move to U+0100 onward.
    static func byteLevelTokens() -> [String] {
        var shifted = 0
        return (0 ..< 256).map { byte in
            let printable = (33 ... 126).contains(byte) || (161 ... 172).contains(byte) || (174 ... 255).contains(byte)
            if printable { return String(UnicodeScalar(UInt8(byte))) }
            defer { shifted += 1 }
            return String(UnicodeScalar(UInt32(256 + shifted))!)
        }
    }
}

/// A small deterministic generator, so tests are reproducible everywhere.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func nextGaussian() -> Float {
        let u1 = Double.random(in: Double.ulpOfOne ..< 1, using: &self)
        let u2 = Double.random(in: 0 ..< 1, using: &self)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}
