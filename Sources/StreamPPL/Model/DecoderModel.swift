import StreamPPLKernels

/// A decoder-only transformer in Float32 whose block takes the steps its architecture's `BlockOptions` name:
/// Llama's block, and the additions of Qwen2 and Gemma-3. The model owns no cache: each call is handed the cache
/// that stores keys and values and decides what every token attends to.
public final class DecoderModel: LanguageModel, @unchecked Sendable {
    public let config: ModelConfig
    public let weights: ModelWeights
    public var file: GGUFFile { weights.file }

    public init(config: ModelConfig, weights: ModelWeights) {
        self.config = config
        self.weights = weights
    }

    public func forward(_ tokens: UnsafeBufferPointer<Int32>, cache: KVCache, state: ForwardState, logitRows: Range<Int>) {
        let count = tokens.count
        precondition(count <= state.capacity, "chunk of \(count) tokens exceeds the forward state's capacity \(state.capacity)")
        let dim = config.embeddingSize, width = config.feedForwardSize, block = config.block
        let profile = state.profile
        func timed(_ operation: ForwardProfile.Operation, _ work: () -> Void) {
            if let profile { profile.measure(operation, work) } else { work() }
        }
        /// RMSNorm of `rows` rows of `width` values, scaled by `weight`, from `source` into `target` (which may be `source`).
        func normalize(_ source: UnsafeMutablePointer<Float>, rows: Int, width: Int, _ weight: FloatMatrix, into target: UnsafeMutablePointer<Float>) {
            timed(.normalization) {
                LinearAlgebra.rmsNorm(source, rows: rows, width: width, weight: weight.values, epsilon: config.normEpsilon, into: target)
            }
        }
        /// hidden += projected, after the post-norm when the block has one.
        func addResidual(_ postNorm: FloatMatrix?) {
            if let postNorm { normalize(state.projected.values, rows: count, width: dim, postNorm, into: state.projected.values) }
            LinearAlgebra.add(state.projected.values, into: state.hidden.values, count: count * dim)
        }
        timed(.embedding) {
            for (row, token) in tokens.enumerated() {
                state.hidden.row(row).update(from: weights.tokenEmbedding.dense.row(Int(token)), count: dim)
            }
            if block.scalesEmbedding {
                LinearAlgebra.scale(state.hidden.values, count: count * dim, by: Float(dim).squareRoot())
            }
        }
        cache.prepare(count: count)
        for (index, layer) in weights.layers.enumerated() {
            normalize(state.hidden.values, rows: count, width: dim, layer.attentionNorm, into: state.normed.values)
            timed(.projections) {
                layer.query.multiply(state.normed.values, rows: count, into: state.queries.values)
                layer.key.multiply(state.normed.values, rows: count, into: state.keys.values)
                layer.value.multiply(state.normed.values, rows: count, into: state.values.values)
                if let biases = layer.attentionBiases {
                    LinearAlgebra.addToEachRow(biases.query.values, of: state.queries.values, rows: count, width: state.queries.columns)
                    LinearAlgebra.addToEachRow(biases.key.values, of: state.keys.values, rows: count, width: state.keys.columns)
                    LinearAlgebra.addToEachRow(biases.value.values, of: state.values.values, rows: count, width: state.values.columns)
                }
            }
            if let norms = layer.queryKeyNorms {
                normalize(state.queries.values, rows: count * config.headCount, width: config.headSize, norms.query, into: state.queries.values)
                normalize(state.keys.values, rows: count * config.keyValueHeadCount, width: config.headSize, norms.key, into: state.keys.values)
            }
            timed(.attention) {
                cache.attend(layer: index, queries: state.queries.values, keys: state.keys.values, values: state.values.values,
                             count: count, output: state.attention.values)
            }
            timed(.outputProjection) {
                layer.attentionOutput.multiply(state.attention.values, rows: count, into: state.projected.values)
            }
            addResidual(layer.postNorms?.attention)
            normalize(state.hidden.values, rows: count, width: dim, layer.feedForwardNorm, into: state.normed.values)
            timed(.feedForward) {
                layer.gate.multiply(state.normed.values, rows: count, into: state.gate.values)
                layer.up.multiply(state.normed.values, rows: count, into: state.up.values)
                switch block.activation {
                case .silu: LinearAlgebra.swiGLU(gate: state.gate.values, up: state.up.values, count: count * width)
                case .gelu: LinearAlgebra.geGLU(gate: state.gate.values, up: state.up.values, count: count * width)
                }
                layer.down.multiply(state.gate.values, rows: count, into: state.projected.values)
            }
            addResidual(layer.postNorms?.feedForward)
        }
        cache.commit(count: count)

        guard !logitRows.isEmpty else { return }
        precondition(logitRows.count <= state.logits.rows, "\(logitRows.count) logit rows exceed the forward state's \(state.logits.rows)")
        let first = logitRows.lowerBound
        timed(.logits) {
            LinearAlgebra.rmsNorm(state.hidden.row(first), rows: logitRows.count, width: dim, weight: weights.outputNorm.values,
                                  epsilon: config.normEpsilon, into: state.normed.row(first))
            weights.output.multiply(state.normed.row(first), rows: logitRows.count, into: state.logits.values)
            if let cap = config.logitSoftCap {
                LinearAlgebra.softCap(state.logits.values, count: logitRows.count * config.vocabularySize, cap: cap)
            }
        }
    }
}
