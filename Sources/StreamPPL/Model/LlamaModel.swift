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
    let gate: FloatMatrix          // (capacity, ffn)
    let up: FloatMatrix            // (capacity, ffn)
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
        up = FloatMatrix(rows: capacity, columns: config.feedForwardSize)
        logits = FloatMatrix(rows: min(scoredCapacity ?? capacity, capacity), columns: config.vocabularySize)
    }
}

/// A Llama-architecture decoder (RMSNorm, rotary attention with grouped-query heads, SwiGLU) in Float32.
/// The model owns no cache: each call is handed the cache that stores keys and values and decides what
/// every token attends to.
public final class LlamaModel: @unchecked Sendable {
    public let config: ModelConfig
    public let weights: ModelWeights

    public init(config: ModelConfig, weights: ModelWeights) {
        self.config = config
        self.weights = weights
    }

    public convenience init(gguf: GGUFFile) throws(ModelError) {
        let config = try ModelConfig(gguf: gguf)
        self.init(config: config, weights: try ModelWeights(gguf: gguf, config: config))
    }

    /// Feeds `tokens` (at most `state.capacity`) through every layer, then writes the logits after the tokens at
    /// `logitRows` into the first `logitRows.count` rows of `state.logits`.
    public func forward(_ tokens: UnsafeBufferPointer<Int32>, cache: KVCache, state: ForwardState, logitRows: Range<Int>) {
        let count = tokens.count
        precondition(count <= state.capacity, "chunk of \(count) tokens exceeds the forward state's capacity \(state.capacity)")
        let dim = config.embeddingSize, width = config.feedForwardSize
        let profile = state.profile
        func timed(_ operation: ForwardProfile.Operation, _ work: () -> Void) {
            if let profile { profile.measure(operation, work) } else { work() }
        }
        /// normed ← RMSNorm(hidden) · weight, for every token of the pass.
        func normalize(_ weight: FloatMatrix) {
            timed(.normalization) {
                LinearAlgebra.rmsNorm(state.hidden.values, rows: count, width: dim, weight: weight.values,
                                      epsilon: config.normEpsilon, into: state.normed.values)
            }
        }
        timed(.embedding) {
            for (row, token) in tokens.enumerated() {
                state.hidden.row(row).update(from: weights.tokenEmbedding.dense.row(Int(token)), count: dim)
            }
        }
        cache.prepare(count: count)
        for (index, layer) in weights.layers.enumerated() {
            normalize(layer.attentionNorm)
            timed(.projections) {
                layer.query.multiply(state.normed.values, rows: count, into: state.queries.values)
                layer.key.multiply(state.normed.values, rows: count, into: state.keys.values)
                layer.value.multiply(state.normed.values, rows: count, into: state.values.values)
            }
            timed(.attention) {
                cache.attend(layer: index, queries: state.queries.values, keys: state.keys.values, values: state.values.values,
                             count: count, output: state.attention.values)
            }
            timed(.outputProjection) {
                layer.attentionOutput.multiply(state.attention.values, rows: count, into: state.projected.values)
                LinearAlgebra.add(state.projected.values, into: state.hidden.values, count: count * dim)
            }
            normalize(layer.feedForwardNorm)
            timed(.feedForward) {
                layer.gate.multiply(state.normed.values, rows: count, into: state.gate.values)
                layer.up.multiply(state.normed.values, rows: count, into: state.up.values)
                LinearAlgebra.swiGLU(gate: state.gate.values, up: state.up.values, count: count * width)
                layer.down.multiply(state.gate.values, rows: count, into: state.projected.values)
                LinearAlgebra.add(state.projected.values, into: state.hidden.values, count: count * dim)
            }
        }
        cache.commit(count: count)

        guard !logitRows.isEmpty else { return }
        precondition(logitRows.count <= state.logits.rows, "\(logitRows.count) logit rows exceed the forward state's \(state.logits.rows)")
        let first = logitRows.lowerBound
        timed(.logits) {
            LinearAlgebra.rmsNorm(state.hidden.row(first), rows: logitRows.count, width: dim, weight: weights.outputNorm.values,
                                  epsilon: config.normEpsilon, into: state.normed.row(first))
            weights.output.multiply(state.normed.row(first), rows: logitRows.count, into: state.logits.values)
        }
    }
}

extension Weight {
    /// y (rows x self.rows) = x (rows x self.columns) · selfᵀ. One token reads the quantized blocks (a matrix-vector
    /// product is bound by the bytes it reads); a chunk of tokens runs as a Float32 sgemm.
    func multiply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        if rows == 1 {
            blocks.multiply(x, into: y)
        } else {
            LinearAlgebra.multiply(x, rows: rows, by: dense, into: y)
        }
    }
}
