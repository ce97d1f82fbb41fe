import Foundation
@testable import StreamPPL

/// A tiny random Llama in GGUF form: 2 layers, 4 query heads sharing 2 key/value heads, a byte-level
/// vocabulary of 256 tokens (one per byte, no merges) so that any ASCII text tokenizes. With another
/// `architecture` its keys take that prefix and it gets the tensors and keys that architecture needs
/// (qwen2: Q/K/V biases; qwen3 and gemma3: Q/K norms; gemma3: post-norms, a 3-layer stack whose last layer is
/// global and a sliding window of `slidingWindow`; gptneox, falcon, mpt: LayerNorms, fused `attn_qkv`, an ungated
/// feed-forward, and gptneox's biases, a quarter of each head rotating and `parallelResidual`, falcon's single
/// key/value head and shared norm, mpt's ALiBi, Q/K/V clamp and no rotary).
enum TinyLlama {
    static let dim = 32, heads = 4, kvHeads = 2, layers = 2, feedForward = 48, vocabulary = 256

    static func writer(seed: UInt64 = 7, architecture: String = "llama", tied: Bool = true, slidingWindow: Int = 8,
                       parallelResidual: Bool = true) -> GGUFWriter {
        let a = architecture
        let layers = architecture == "gemma3" ? 3 : Self.layers
        let layerNorm = ["gptneox", "falcon", "mpt"].contains(architecture)
        let kvHeads = switch architecture {
        case "falcon": 1
        case "gptneox", "mpt": heads
        default: Self.kvHeads
        }
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
        writer.set("\(a).attention.layer_norm\(layerNorm ? "" : "_rms")_epsilon", .float32(1e-5))
        switch architecture {
        case "gemma3":
            writer.set("gemma3.attention.sliding_window", .uint32(UInt32(slidingWindow)))
            writer.set("gemma3.attention.sliding_window_pattern", .uint32(3))
        case "gptneox":
            writer.set("gptneox.rope.dimension_count", .uint32(UInt32(dim / heads / 4)))
            writer.set("gptneox.use_parallel_residual", .bool(parallelResidual))
        case "mpt":
            writer.set("mpt.attention.max_alibi_bias", .float32(8))
            writer.set("mpt.attention.clamp_kqv", .float32(1.5))
        default: break
        }
        writer.set("tokenizer.ggml.model", .string("gpt2"))
        writer.set("tokenizer.ggml.pre", .string("gpt2"))
        writer.set("tokenizer.ggml.tokens", .array(byteLevelTokens().map(GGUFValue.string)))
        writer.set("tokenizer.ggml.token_type", .array(Array(repeating: .int32(1), count: vocabulary)))
        writer.set("tokenizer.ggml.merges", .array([]))
        writer.set("tokenizer.ggml.add_bos_token", .bool(false))

        func vector(_ name: String, width: Int, around center: Float, spread: Float) {
            writer.addFloatTensor(name, dimensions: [width], values: (0 ..< width).map { _ in center + spread * random.nextGaussian() })
        }
        func bias(_ name: String, width: Int) { vector(name, width: width, around: 0, spread: 0.3) }
        /// A projection, with its bias in gptneox.
        func matrix(_ name: String, rows: Int, columns: Int, biased: Bool = architecture == "gptneox") {
            let scale = 1 / Float(columns).squareRoot()
            writer.addFloatTensor(name + ".weight", dimensions: [columns, rows], values: (0 ..< rows * columns).map { _ in random.nextGaussian() * scale * 1.5 })
            if biased { bias(name + ".bias", width: rows) }
        }
        /// A norm's weight, and LayerNorm's bias.
        func norm(_ name: String, width: Int = dim) {
            vector(name + ".weight", width: width, around: 1, spread: 0.1)
            if layerNorm && width == dim { bias(name + ".bias", width: width) }
        }
        let headSize = dim / heads
        writer.addFloatTensor("token_embd.weight", dimensions: [dim, vocabulary],
                              values: (0 ..< dim * vocabulary).map { _ in random.nextGaussian() })
        for layer in 0 ..< layers {
            let prefix = "blk.\(layer)."
            norm(prefix + "attn_norm")
            if layerNorm {
                matrix(prefix + "attn_qkv", rows: dim + 2 * kvHeads * headSize, columns: dim)
            } else {
                matrix(prefix + "attn_q", rows: dim, columns: dim)
                matrix(prefix + "attn_k", rows: kvHeads * headSize, columns: dim)
                matrix(prefix + "attn_v", rows: kvHeads * headSize, columns: dim)
            }
            if architecture == "qwen2" {
                bias(prefix + "attn_q.bias", width: dim)
                bias(prefix + "attn_k.bias", width: kvHeads * headSize)
                bias(prefix + "attn_v.bias", width: kvHeads * headSize)
            }
            if architecture == "gemma3" || architecture == "qwen3" {
                norm(prefix + "attn_q_norm", width: headSize)
                norm(prefix + "attn_k_norm", width: headSize)
            }
            if architecture == "gemma3" {
                norm(prefix + "post_attention_norm")
                norm(prefix + "post_ffw_norm")
            }
            matrix(prefix + "attn_output", rows: dim, columns: dim)
            if architecture != "falcon" { norm(prefix + "ffn_norm") }
            if !layerNorm { matrix(prefix + "ffn_gate", rows: feedForward, columns: dim) }
            matrix(prefix + "ffn_up", rows: feedForward, columns: dim)
            matrix(prefix + "ffn_down", rows: dim, columns: feedForward)
        }
        norm("output_norm")
        if !tied || architecture == "gptneox" { matrix("output", rows: vocabulary, columns: dim, biased: false) }
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

extension SplitMix64 {
    mutating func nextGaussian() -> Float {
        let u1 = Double.random(in: Double.ulpOfOne ..< 1, using: &self)
        let u2 = Double.random(in: 0 ..< 1, using: &self)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}
