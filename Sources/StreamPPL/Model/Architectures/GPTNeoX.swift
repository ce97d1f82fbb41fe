extension Architecture {
    /// GPT-NeoX (Pythia): LayerNorm with biases; Q, K and V fused in `attn_qkv`, with biases; rotary on the halves of
    /// the first `rope.dimension_count` values of each head (Pythia turns a quarter); biases on the attention output
    /// and on the ungated GELU feed-forward; attention and feed-forward side by side off the same stream when
    /// `use_parallel_residual` (a key llama.cpp requires), else one after the other; an untied `output.weight`.
    static let gptneox = Architecture(
        name: "gptneox", rotaryPairing: .halves,
        block: BlockOptions(normalization: .layer, normBiases: .required, fusedQueryKeyValue: .required, attentionBiases: .required,
                            projectionBiases: .required, feedForward: .gelu, requiresOutputWeight: true),
        readExtraKeys: { gguf, config throws(ModelError) in
            let keys = ModelKeys(gguf)
            config.block.parallelResidual = try keys.require("gptneox.use_parallel_residual", keys.boolean)
        })
}
