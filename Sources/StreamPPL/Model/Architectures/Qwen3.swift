extension Architecture {
    /// Qwen3: Llama's block with RMSNorm over each query and key head before rotary (`attn_q_norm`, `attn_k_norm`),
    /// rotary on the halves of the whole head (llama.cpp asserts `rope.dimension_count` is the head size). Qwen3 has no
    /// Q/K/V biases, but llama.cpp adds them when a file has them, so they are used then too; likewise Q, K and V
    /// fused in `attn_qkv` when the file has that instead of `attn_q`, `attn_k`, `attn_v`.
    static let qwen3 = Architecture(
        name: "qwen3", rotaryPairing: .halves, block: BlockOptions(fusedQueryKeyValue: .optional, attentionBiases: .optional, queryKeyNorm: true),
        readExtraKeys: { gguf, config throws(ModelError) in try config.requireFullRotary(gguf) })
}
