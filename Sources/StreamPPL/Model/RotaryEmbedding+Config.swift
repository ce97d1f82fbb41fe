import StreamPPLKernels

extension RotaryEmbedding {
    /// The model's rotary settings (`rope.dimension_count`, `rope.freq_base`, the architecture's pairing) for its head size.
    public convenience init(config: ModelConfig) {
        self.init(dimensions: config.ropeDimensions, headSize: config.headSize, base: config.ropeBase, pairing: config.rotaryPairing)
    }
}
