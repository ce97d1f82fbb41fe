extension Architecture {
    /// Qwen3: Llama's block with RMSNorm over each query and key head before rotary (`attn_q_norm`, `attn_k_norm`),
    /// rotary on the halves of the whole head (llama.cpp asserts `rope.dimension_count` is the head size), no biases.
    static let qwen3 = Architecture(
        name: "qwen3", rotaryPairing: .halves, block: BlockOptions(queryKeyNorm: true),
        readExtraKeys: { gguf, config throws(ModelError) in try config.requireFullRotary(gguf) })
}
