import StreamPPLKernels

/// The local layers of a sliding-window model such as Gemma-3 (METHOD.md §2): on these layers a query sees only
/// the keys less than `window` positions before it, in the positions the cache policy assigns (cache-slot ranks
/// or original positions), and rotary turns with the local base. Sinks therefore reach only the global layers
/// once the query is `window` slots past them.
public struct LocalAttention {
    public let layers: [Bool]
    public let window: Int
    public let rotary: RotaryEmbedding

    public init(layers: [Bool], window: Int, rotary: RotaryEmbedding) {
        self.layers = layers
        self.window = window
        self.rotary = rotary
    }

    /// The model's local layers, or nil when it has none.
    public init?(config: ModelConfig) {
        guard let sliding = config.slidingWindow else { return nil }
        self.init(layers: sliding.localLayers, window: sliding.size,
                  rotary: RotaryEmbedding(dimensions: config.ropeDimensions, headSize: config.headSize, base: sliding.ropeBase,
                                          pairing: config.rotaryPairing))
    }

    func isLocal(_ layer: Int) -> Bool { layers[layer] }

    /// The lowest key position a query at `position` sees on a local layer.
    func lowestVisiblePosition(query position: Int) -> Int { position - window + 1 }
}
