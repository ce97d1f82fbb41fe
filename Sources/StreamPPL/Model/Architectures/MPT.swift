extension Architecture {
    /// MPT: no rotary; positions come from ALiBi (`attention.max_alibi_bias`, off when absent or 0, as llama.cpp).
    /// LayerNorm, Q, K and V fused in `attn_qkv`, the attention output and the ungated GELU feed-forward, each with a
    /// bias when the file has one; Q, K and V clamped to ±`attention.clamp_kqv` when set; the output head tied to the
    /// embedding unless `output.weight`. The tensors llama.cpp knows for MPT that streamppl does not implement (learned
    /// position embeddings, Q/K LayerNorms, AWQ activation scales) are rejected, never ignored.
    static let mpt = Architecture(
        name: "mpt", rotaryPairing: .halves,
        block: BlockOptions(normalization: .layer, normBiases: .optional, fusedQueryKeyValue: .required, attentionBiases: .optional,
                            projectionBiases: .optional, feedForward: .gelu),
        unsupportedTensors: ["position_embd.weight", "attn_q_norm.weight", "attn_k_norm.weight", "ffn.act.scales"],
        readExtraKeys: { gguf, config throws(ModelError) in
            config.ropeDimensions = 0
            let keys = ModelKeys(gguf)
            config.alibiMaxBias = try keys.numberOrOff("mpt.attention.max_alibi_bias")
            config.queryKeyValueClamp = try keys.numberOrOff("mpt.attention.clamp_kqv")
        })
}
