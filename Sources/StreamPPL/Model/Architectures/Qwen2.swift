extension Architecture {
    /// Qwen2 (Qwen2.5): Llama's block with biases on the query, key and value projections; rotary on the halves of
    /// each head (llama.cpp's NEOX type, unpermuted weights) with the file's base (1e6 for Qwen2.5).
    static let qwen2 = Architecture(name: "qwen2", rotaryPairing: .halves, block: BlockOptions(attentionBiases: .required))
}
