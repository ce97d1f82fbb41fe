import Foundation
import XCTest
@testable import StreamPPL
@testable import StreamPPLKernels

/// The GGUF seed corpus of the fuzz target Fuzz/Sources/FuzzGGUF: small valid files made with the test writer, so
/// libFuzzer starts from inputs that reach the tokenizer and model-config code. scripts/make-fuzz-seeds.sh writes
/// them to Fuzz/Corpus/gguf (by running this test with STREAMPPL_FUZZ_SEEDS set); the test checks that each seed
/// parses from memory and builds what it is meant to, and that the committed corpus is what the generator makes.
final class FuzzSeedCorpusTests: XCTestCase {
    static let committed = TestPaths.repository + "/Fuzz/Corpus/gguf"

    func testSeedsParseInMemoryAndTheCommittedCorpusIsUpToDate() throws {
        let out = ProcessInfo.processInfo.environment["STREAMPPL_FUZZ_SEEDS"]
        for (name, bytes) in Self.seeds() {
            let gguf = try bytes.withUnsafeBytes { buffer in try GGUFFile(bytes: buffer, name: name) }
            if name.contains("vocab") || name.hasPrefix("tiny-llama") {
                XCTAssertFalse(try Tokenizer(gguf: gguf).encodeDocument("Hello world").isEmpty, name)
            }
            if name.hasPrefix("tiny-llama") { XCTAssertNoThrow(try ModelConfig(gguf: gguf), name) }
            if let out {
                try Data(bytes).write(to: URL(fileURLWithPath: out + "/" + name))
            } else {
                let committed = try Data(contentsOf: URL(fileURLWithPath: Self.committed + "/" + name))
                XCTAssertEqual([UInt8](committed), bytes, "\(name) differs from the generator: run scripts/make-fuzz-seeds.sh")
            }
        }
    }

    /// The seeds by file name.
    static func seeds() -> [(String, [UInt8])] {
        [("tiny-llama-bpe.gguf", tinyLlama().bytes()),
         ("bpe-llama3-vocab.gguf", bytePairVocabulary(pre: "llama-bpe").bytes()),
         ("bpe-smollm-vocab.gguf", bytePairVocabulary(pre: "smollm").bytes()),
         ("spm-vocab.gguf", sentencePieceVocabulary().bytes()),
         ("every-value-type-v2.gguf", everyValueType(version: 2).bytes()),
         ("tensor-types-align64.gguf", tensorTypes().bytes())]
    }

    /// A Llama small enough to mutate quickly (embedding 8, 2 heads sharing 1 key/value head, 1 layer) with the
    /// byte-level vocabulary of TinyLlama.
    static func tinyLlama() -> GGUFWriter {
        var writer = bytePairVocabulary(pre: "gpt2")
        let dim = 8, feedForward = 16, vocabulary = 256
        writer.set("general.architecture", .string("llama"))
        writer.set("llama.block_count", .uint32(1))
        writer.set("llama.context_length", .uint32(64))
        writer.set("llama.embedding_length", .uint32(UInt32(dim)))
        writer.set("llama.feed_forward_length", .uint32(UInt32(feedForward)))
        writer.set("llama.attention.head_count", .uint32(2))
        writer.set("llama.attention.head_count_kv", .uint32(1))
        writer.set("llama.rope.freq_base", .float32(10_000))
        writer.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        func tensor(_ name: String, _ dimensions: [Int]) {
            writer.addFloatTensor(name, dimensions: dimensions, values: (0 ..< dimensions.reduce(1, *)).map { Float($0 % 7) / 8 })
        }
        tensor("token_embd.weight", [dim, vocabulary])
        tensor("blk.0.attn_norm.weight", [dim])
        tensor("blk.0.attn_q.weight", [dim, dim])
        tensor("blk.0.attn_k.weight", [dim, dim / 2])
        tensor("blk.0.attn_v.weight", [dim, dim / 2])
        tensor("blk.0.attn_output.weight", [dim, dim])
        tensor("blk.0.ffn_norm.weight", [dim])
        tensor("blk.0.ffn_gate.weight", [dim, feedForward])
        tensor("blk.0.ffn_up.weight", [dim, feedForward])
        tensor("blk.0.ffn_down.weight", [feedForward, dim])
        tensor("output_norm.weight", [dim])
        return writer
    }

    /// Byte-level BPE: the 256 byte tokens, a few merges, special tokens, BOS/EOS.
    static func bytePairVocabulary(pre: String) -> GGUFWriter {
        var writer = GGUFWriter()
        let merged = ["He", "ll", "llo", "Hello", "Ġw", "or", "ld", "Ġwor", "Ġworld", "ĠĠ", "ĊĊ"]
        let special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        let texts = TinyLlama.byteLevelTokens() + merged + special
        writer.set("tokenizer.ggml.model", .string("gpt2"))
        writer.set("tokenizer.ggml.pre", .string(pre))
        writer.set("tokenizer.ggml.tokens", .strings(texts))
        writer.set("tokenizer.ggml.token_type", .int32s([Int32](repeating: 1, count: 256 + merged.count) + [3, 3, 4]))
        writer.set("tokenizer.ggml.merges", .strings(["H e", "l l", "ll o", "He llo", "Ġ w", "o r", "l d", "Ġw or", "Ġwor ld", "Ġ Ġ", "Ċ Ċ"]))
        writer.set("tokenizer.ggml.bos_token_id", .uint32(UInt32(texts.count - 3)))
        writer.set("tokenizer.ggml.eos_token_id", .uint32(UInt32(texts.count - 3)))
        writer.set("tokenizer.ggml.add_bos_token", .bool(false))
        return writer
    }

    /// SentencePiece: <unk>, <s>, </s>, the 256 byte tokens, scored pieces and a user-defined token.
    static func sentencePieceVocabulary() -> GGUFWriter {
        let bytes = (0 ..< 256).map { byte -> String in
            let hex = String(byte, radix: 16, uppercase: true)
            return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
        }
        let pieces: [(String, Float)] = [("▁", -5), ("H", -6), ("e", -6), ("l", -6), ("o", -6), ("▁w", -3), ("ll", -2),
                                         ("Hello", -1), ("▁world", -1), ("or", -4), ("d", -6)]
        var writer = GGUFWriter()
        writer.set("tokenizer.ggml.model", .string("llama"))
        writer.set("tokenizer.ggml.tokens", .strings(["<unk>", "<s>", "</s>"] + bytes + pieces.map(\.0) + ["<|im_start|>"]))
        writer.set("tokenizer.ggml.scores", .floats([0, 0, 0] + [Float](repeating: 0, count: 256) + pieces.map(\.1) + [0]))
        writer.set("tokenizer.ggml.token_type", .int32s([2, 3, 3] + [Int32](repeating: 6, count: 256) + [Int32](repeating: 1, count: pieces.count) + [4]))
        writer.set("tokenizer.ggml.bos_token_id", .uint32(1))
        writer.set("tokenizer.ggml.eos_token_id", .uint32(2))
        writer.set("tokenizer.ggml.unknown_token_id", .uint32(0))
        writer.set("tokenizer.ggml.add_space_prefix", .bool(true))
        return writer
    }

    /// Metadata only, one key of every value type and an array of each element type, in a version-2 file.
    static func everyValueType(version: UInt32) -> GGUFWriter {
        var writer = GGUFWriter()
        writer.version = version
        let values: [(String, GGUFValue)] = [
            ("u8", .uint8(200)), ("i8", .int8(-3)), ("u16", .uint16(60_000)), ("i16", .int16(-300)), ("u32", .uint32(1 << 31)),
            ("i32", .int32(-70_000)), ("f32", .float32(0.5)), ("bool", .bool(true)), ("str", .string("naïve ✓")),
            ("u64", .uint64(1 << 40)), ("i64", .int64(-(1 << 40))), ("f64", .float64(-2.25)),
        ]
        for (name, value) in values {
            writer.set("t." + name, value)
            writer.set("t.array." + name, .array([value, value]))
        }
        writer.set("general.alignment", .uint32(16))
        writer.alignment = 16
        return writer
    }

    /// One small tensor of each common type, 64-byte aligned.
    static func tensorTypes() -> GGUFWriter {
        var writer = GGUFWriter()
        writer.alignment = 64
        writer.set("general.alignment", .uint32(64))
        writer.set("general.architecture", .string("llama"))
        let specs: [(String, [Int], TensorType)] = [("f32", [4], .f32), ("f16", [4, 2], .f16), ("bf16", [2, 1, 2], .bf16),
                                                    ("q8_0", [32], .q8_0), ("q4_0", [32], .q4_0), ("q4_1", [32], .q4_1),
                                                    ("q4_k", [256], .q4_K), ("q6_k", [256], .q6_K)]
        for (index, (name, dimensions, type)) in specs.enumerated() {
            let count = type.byteCount(elements: dimensions.reduce(1, *)) ?? 0
            writer.addTensor(name, dimensions: dimensions, type: type.rawValue, data: (0 ..< count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) })
        }
        return writer
    }
}
