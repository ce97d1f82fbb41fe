/// The dimensions attention needs: layers, query heads, key/value heads and their size.
public struct AttentionShape: Sendable, Equatable {
    public let layers: Int
    public let heads: Int
    public let keyValueHeads: Int
    public let headSize: Int

    public init(layers: Int, heads: Int, keyValueHeads: Int, headSize: Int) {
        self.layers = layers
        self.heads = heads
        self.keyValueHeads = keyValueHeads
        self.headSize = headSize
    }

    public var queryWidth: Int { heads * headSize }
    public var keyValueWidth: Int { keyValueHeads * headSize }
    /// Query heads that share one key/value head (grouped-query attention).
    public var groupSize: Int { heads / keyValueHeads }
    public var scale: Float { 1 / Float(headSize).squareRoot() }
}
