extension Architecture {
    /// Falcon: one LayerNorm with bias (`attn_norm`) feeding attention and the ungated GELU feed-forward side by side
    /// (h + attn(n) + ffn(n)); Falcon-40B's `attn_norm_2` normalizes the attention's input instead when present.
    /// Q, K and V fused in `attn_qkv` without biases, multi-query heads, rotary on the halves of the whole head (llama.cpp
    /// asserts that `rope.dimension_count` is the head size); the output head tied to the embedding unless `output.weight`.
    static let falcon = Architecture(
        name: "falcon", rotaryPairing: .halves,
        block: BlockOptions(normalization: .layer, normBiases: .required, fusedQueryKeyValue: .required, parallelResidual: true,
                            sharedNorm: true, feedForward: .gelu),
        readExtraKeys: { gguf, config throws(ModelError) in try config.requireFullRotary(gguf) })
}
