extension Architecture {
    /// Llama (and SmolLM2): RMSNorm, rotary attention with grouped-query heads on adjacent pairs, SwiGLU, an
    /// output head tied to the embedding unless `output.weight` is there.
    static let llama = Architecture(name: "llama", rotaryPairing: .adjacent, block: BlockOptions())
}
