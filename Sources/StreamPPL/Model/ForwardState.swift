import StreamPPLKernels

/// The activations of one forward pass, allocated once for up to `capacity` tokens per pass.
public final class ForwardState {
    public let capacity: Int
    let hidden: FloatMatrix        // (capacity, dim) the residual stream
    let normed: FloatMatrix        // (capacity, dim)
    let queries: FloatMatrix       // (capacity, heads * headSize)
    let keys: FloatMatrix          // (capacity, kvHeads * headSize)
    let values: FloatMatrix        // (capacity, kvHeads * headSize)
    let attention: FloatMatrix     // (capacity, heads * headSize)
    let projected: FloatMatrix     // (capacity, dim)
    let gate: FloatMatrix          // (capacity, ffn); the activation, and the up projection when ungated
    let up: FloatMatrix            // (capacity, ffn); no rows when the feed-forward is ungated
    /// (scoredCapacity, vocab): row i holds the logits after the token at `logitRows.lowerBound + i` of the last
    /// pass. Only the scored rows get one, so a recompute pass over thousands of tokens that scores a few keeps
    /// a few vocabulary-wide rows, not thousands.
    public let logits: FloatMatrix
    /// Time per operation, when set.
    public var profile: ForwardProfile?

    /// `scoredCapacity`: the most logit rows one pass asks for (default: every token of a full pass).
    public init(config: ModelConfig, capacity: Int, scoredCapacity: Int? = nil) {
        self.capacity = capacity
        let attentionWidth = config.headCount * config.headSize
        hidden = FloatMatrix(rows: capacity, columns: config.embeddingSize)
        normed = FloatMatrix(rows: capacity, columns: config.embeddingSize)
        queries = FloatMatrix(rows: capacity, columns: attentionWidth)
        keys = FloatMatrix(rows: capacity, columns: config.keyValueSize)
        values = FloatMatrix(rows: capacity, columns: config.keyValueSize)
        attention = FloatMatrix(rows: capacity, columns: attentionWidth)
        projected = FloatMatrix(rows: capacity, columns: config.embeddingSize)
        gate = FloatMatrix(rows: capacity, columns: config.feedForwardSize)
        up = FloatMatrix(rows: config.block.feedForward.isGated ? capacity : 0, columns: config.feedForwardSize)
        logits = FloatMatrix(rows: min(scoredCapacity ?? capacity, capacity), columns: config.vocabularySize)
    }

    /// The floats each token of `capacity` takes beside its logits: what the memory estimate counts.
    static func activationWidth(_ config: ModelConfig) -> Int {
        3 * config.embeddingSize + 2 * config.headCount * config.headSize + 2 * config.keyValueSize
            + (config.block.feedForward.isGated ? 2 : 1) * config.feedForwardSize
    }
}
