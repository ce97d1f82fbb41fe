import StreamPPLKernels

/// The blueprint of a model, read from the `<arch>.*` GGUF keys every supported architecture has.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: String
    public var name: String
    public var layerCount: Int          // <arch>.block_count
    public var contextLength: Int       // <arch>.context_length (the training window)
    public var embeddingSize: Int       // <arch>.embedding_length
    public var feedForwardSize: Int     // <arch>.feed_forward_length
    public var headCount: Int           // <arch>.attention.head_count
    public var keyValueHeadCount: Int   // <arch>.attention.head_count_kv (grouped-query attention)
    public var headSize: Int            // <arch>.attention.key_length, else embedding_length / head_count
    public var ropeBase: Double         // <arch>.rope.freq_base
    public var rotaryPairing: RotaryEmbedding.Pairing   // the architecture's
    public var ropeDimensions: Int      // <arch>.rope.dimension_count: leading dims of each head that rotate
    public var normEpsilon: Float       // <arch>.attention.layer_norm_rms_epsilon, or layer_norm_epsilon for LayerNorm
    public var vocabularySize: Int
    /// The decoder block's steps, the architecture's.
    public var block: BlockOptions
    /// Local layers and their window, for architectures that interleave them with global ones (Gemma-3).
    public var slidingWindow: SlidingWindow? = nil
    /// Logits become cap · tanh(logits / cap) (`final_logit_softcapping`), when set.
    public var logitSoftCap: Float? = nil
    /// ALiBi's maximum bias (`attention.max_alibi_bias`, MPT), when the model has linear position biases instead of rotary.
    public var alibiMaxBias: Float? = nil
    /// Q, K and V clamped to [-limit, limit] after their projections (`attention.clamp_kqv`, MPT), when set.
    public var queryKeyValueClamp: Float? = nil

    public var keyValueSize: Int { keyValueHeadCount * headSize }

    public init(architecture: String, name: String, layerCount: Int, contextLength: Int, embeddingSize: Int,
                feedForwardSize: Int, headCount: Int, keyValueHeadCount: Int, headSize: Int, ropeBase: Double,
                rotaryPairing: RotaryEmbedding.Pairing, ropeDimensions: Int, normEpsilon: Float, vocabularySize: Int, block: BlockOptions) {
        self.architecture = architecture
        self.name = name
        self.layerCount = layerCount
        self.contextLength = contextLength
        self.embeddingSize = embeddingSize
        self.feedForwardSize = feedForwardSize
        self.headCount = headCount
        self.keyValueHeadCount = keyValueHeadCount
        self.headSize = headSize
        self.ropeBase = ropeBase
        self.rotaryPairing = rotaryPairing
        self.ropeDimensions = ropeDimensions
        self.normEpsilon = normEpsilon
        self.vocabularySize = vocabularySize
        self.block = block
    }

    public init(gguf: GGUFFile) throws(ModelError) {
        let path = gguf.path
        guard let architecture = gguf.string("general.architecture") else {
            throw .missingKey(path: path, key: "general.architecture")
        }
        guard let known = ModelRegistry.architecture(named: architecture) else {
            throw .unsupportedArchitecture(path: path, architecture: architecture)
        }
        let keys = ModelKeys(gguf)
        func required(_ suffix: String) throws(ModelError) -> Int { try keys.require("\(architecture).\(suffix)", keys.positiveInteger) }
        let embeddingSize = try required("embedding_length")
        let headCount = try required("attention.head_count")
        let keyValueHeadCount = try keys.integer("\(architecture).attention.head_count_kv", expected: "a divisor of head_count \(headCount)") {
            $0 > 0 && headCount % $0 == 0
        } ?? headCount
        let headSize: Int
        if let keyLength = try keys.integer("\(architecture).attention.key_length", expected: "a positive head size", valid: {
            $0 > 0 && $0 <= embeddingSize * 4
        }) {
            headSize = keyLength
        } else {
            // Without key_length the heads split the embedding evenly.
            guard embeddingSize % headCount == 0 else {
                throw .invalidValue(path: path, key: "\(architecture).attention.head_count", value: String(headCount),
                                    expected: "a divisor of embedding_length \(embeddingSize)")
            }
            headSize = embeddingSize / headCount
        }
        let ropeDimensions = try keys.integer("\(architecture).rope.dimension_count", expected: "an even number up to the head size \(headSize)") {
            $0 > 0 && $0 <= headSize && $0 % 2 == 0
        } ?? headSize
        let epsilonKey = "\(architecture).attention." + (known.block.normalization == .rms ? "layer_norm_rms_epsilon" : "layer_norm_epsilon")
        // A NaN or zero epsilon makes every norm NaN or infinite: no perplexity could come out.
        let normEpsilon = try keys.require(epsilonKey) { key throws(ModelError) in
            try keys.number(key, expected: "a finite number between 0 and 1") { $0 > 0 && $0 < 1 }
        }
        let ropeBase = try keys.number("\(architecture).rope.freq_base", expected: "a finite number above 1", valid: { $0 > 1 }) ?? 10_000
        let vocabularySize = try keys.integer("\(architecture).vocab_size")
            ?? gguf.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count
        guard let vocabularySize else { throw .missingKey(path: path, key: "\(architecture).vocab_size") }
        // Token ids index the embedding rows: a tokenizer larger than the model would read past them.
        if let tokenCount = gguf.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count, tokenCount > vocabularySize {
            throw .invalidValue(path: path, key: "\(architecture).vocab_size", value: String(vocabularySize),
                                expected: "at least the \(tokenCount) tokens of tokenizer.ggml.tokens")
        }

        self.init(architecture: architecture,
                  name: gguf.string("general.name") ?? "",
                  layerCount: try required("block_count"),
                  contextLength: try required("context_length"),
                  embeddingSize: embeddingSize,
                  feedForwardSize: try required("feed_forward_length"),
                  headCount: headCount,
                  keyValueHeadCount: keyValueHeadCount,
                  headSize: headSize,
                  ropeBase: Double(ropeBase),
                  rotaryPairing: known.rotaryPairing,
                  ropeDimensions: ropeDimensions,
                  normEpsilon: normEpsilon,
                  vocabularySize: vocabularySize,
                  block: known.block)
        try known.readExtraKeys(gguf, &self)
    }
}

/// Which layers attend only to the keys within `size` positions of the query (llama.cpp's standard sliding window:
/// a key is hidden when query position - key position >= size), in the positions the cache policy assigns.
public struct SlidingWindow: Sendable, Equatable {
    public var size: Int
    /// One flag per layer: local (windowed) or global.
    public var localLayers: [Bool]
    /// The rotary base of the local layers.
    public var ropeBase: Double
}

/// The steps of a decoder block beyond Llama's (RMSNorm, attention, RMSNorm, gated feed-forward, residual adds).
public struct BlockOptions: Sendable, Equatable {
    /// GELU is its tanh form, computed exactly.
    public enum FeedForward: Sendable {
        /// silu(gate) · up (`ffn_gate`, `ffn_up`).
        case swiGLU
        /// gelu(gate) · up.
        case geGLU
        /// gelu(up), ungated: no `ffn_gate`.
        case gelu

        /// Whether the file brings `ffn_gate` and the activations need an `up` buffer beside it.
        public var isGated: Bool { self != .gelu }
    }
    public enum Normalization: Sendable { case rms, layer }
    /// Whether the file must, may or must not bring a tensor.
    public enum Presence: Sendable { case absent, optional, required }
    /// RMSNorm (`attention.layer_norm_rms_epsilon`) or LayerNorm (`attention.layer_norm_epsilon`) for the block's
    /// and the output's norms.
    public var normalization = Normalization.rms
    /// LayerNorm's biases (`attn_norm.bias`, `ffn_norm.bias`, `output_norm.bias`).
    public var normBiases = Presence.absent
    /// Q, K and V come as one matrix, `attn_qkv`, whose rows are Q's, then K's, then V's (split at load): always
    /// (`.required`), never (`.absent`), or when the file has it (`.optional`), else as `attn_q`, `attn_k`, `attn_v`.
    public var fusedQueryKeyValue = Presence.absent
    /// Biases on the query, key and value projections (`attn_q/k/v.bias`, or `attn_qkv.bias` when fused).
    public var attentionBiases = Presence.absent
    /// Biases on the attention output and the feed-forward's projections (`attn_output.bias`, `ffn_up.bias`, ...).
    public var projectionBiases = Presence.absent
    /// RMSNorm over each query and key head before rotary (`attn_q_norm`, `attn_k_norm`).
    public var queryKeyNorm = false
    /// RMSNorm on the attention and feed-forward outputs before their residual adds (`post_attention_norm`, `post_ffw_norm`).
    public var postNorms = false
    /// h + attn(norm₁(h)) + ffn(norm₂(h)) instead of h' = h + attn(norm₁(h)), h' + ffn(norm₂(h')).
    public var parallelResidual = false
    /// The feed-forward reads the attention's norm, `attn_norm` (Falcon); the attention then reads `attn_norm_2`
    /// when the file has it (Falcon-40B), else `attn_norm` too.
    public var sharedNorm = false
    /// What the feed-forward computes between its up and down projections.
    public var feedForward = FeedForward.swiGLU
    /// The embedding multiplied by √dim.
    public var scalesEmbedding = false
    /// `output.weight` must be there: the output head is never tied to the embedding.
    public var requiresOutputWeight = false
}
