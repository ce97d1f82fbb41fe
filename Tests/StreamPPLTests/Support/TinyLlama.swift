import Foundation
@testable import StreamPPL

/// A tiny random Llama in GGUF form: 2 layers, 4 query heads sharing 2 key/value heads, a byte-level
/// vocabulary of 256 tokens (one per byte, no merges) so that any ASCII text tokenizes.
enum TinyLlama {
    static let dim = 32, heads = 4, kvHeads = 2, layers = 2, feedForward = 48, vocabulary = 256

    static func writer(seed: UInt64 = 7, architecture: String = "llama", tied: Bool = true) -> GGUFWriter {
        var random = SplitMix64(seed: seed)
        var writer = GGUFWriter()
        writer.set("general.architecture", .string(architecture))
        writer.set("general.name", .string("tiny random llama"))
        writer.set("llama.block_count", .uint32(UInt32(layers)))
        writer.set("llama.context_length", .uint32(128))
        writer.set("llama.embedding_length", .uint32(UInt32(dim)))
        writer.set("llama.feed_forward_length", .uint32(UInt32(feedForward)))
        writer.set("llama.attention.head_count", .uint32(UInt32(heads)))
        writer.set("llama.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        writer.set("llama.rope.freq_base", .float32(10_000))
        writer.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
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
        func norm(_ name: String) {
            writer.addFloatTensor(name, dimensions: [dim], values: (0 ..< dim).map { _ in 1 + 0.1 * random.nextGaussian() })
        }
        let headSize = dim / heads
        writer.addFloatTensor("token_embd.weight", dimensions: [dim, vocabulary],
                              values: (0 ..< dim * vocabulary).map { _ in random.nextGaussian() })
        for layer in 0 ..< layers {
            norm("blk.\(layer).attn_norm.weight")
            matrix("blk.\(layer).attn_q.weight", rows: dim, columns: dim)
            matrix("blk.\(layer).attn_k.weight", rows: kvHeads * headSize, columns: dim)
            matrix("blk.\(layer).attn_v.weight", rows: kvHeads * headSize, columns: dim)
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

    static func model(seed: UInt64 = 7) throws -> (GGUFFile, LlamaModel) {
        let gguf = try GGUFFile(path: try writer(seed: seed).write())
        return (gguf, try LlamaModel(gguf: gguf))
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
