import StreamPPLKernels

/// A decoder-only transformer in Float32 whose block takes the steps its architecture's `BlockOptions` name:
/// Llama's block, and the additions of Qwen2, Qwen3, Gemma-3, GPT-NeoX, Falcon and MPT. The model owns no cache: each call is handed the cache
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
        func rmsNormalize(_ source: UnsafeMutablePointer<Float>, rows: Int, width: Int, _ weight: FloatMatrix, into target: UnsafeMutablePointer<Float>) {
            timed(.normalization) {
                LinearAlgebra.rmsNorm(source, rows: rows, width: width, weight: weight.values, epsilon: config.normEpsilon, into: target)
            }
        }
        /// The block's norm (RMSNorm or LayerNorm) of `rows` rows of the residual stream from `source` into `target`.
        func applyNorm(_ source: UnsafeMutablePointer<Float>, rows: Int, _ norm: Norm, into target: UnsafeMutablePointer<Float>) {
            switch block.normalization {
            case .rms:
                LinearAlgebra.rmsNorm(source, rows: rows, width: dim, weight: norm.weight.values, epsilon: config.normEpsilon, into: target)
            case .layer:
                LinearAlgebra.layerNorm(source, rows: rows, width: dim, weight: norm.weight.values, bias: norm.bias?.values,
                                        epsilon: config.normEpsilon, into: target)
            }
        }
        func normalize(_ source: UnsafeMutablePointer<Float>, rows: Int, _ norm: Norm, into target: UnsafeMutablePointer<Float>) {
            timed(.normalization) { applyNorm(source, rows: rows, norm, into: target) }
        }
        /// hidden += projected, after the post-norm when the block has one.
        func addResidual(_ postNorm: FloatMatrix?) {
            if let postNorm { rmsNormalize(state.projected.values, rows: count, width: dim, postNorm, into: state.projected.values) }
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
            normalize(state.hidden.values, rows: count, layer.attentionNorm, into: state.normed.values)
            timed(.projections) {
                layer.query.multiply(state.normed.values, rows: count, into: state.queries.values)
                layer.key.multiply(state.normed.values, rows: count, into: state.keys.values)
                layer.value.multiply(state.normed.values, rows: count, into: state.values.values)
                if let limit = config.queryKeyValueClamp {
                    LinearAlgebra.clamp(state.queries.values, count: count * state.queries.columns, limit: limit)
                    LinearAlgebra.clamp(state.keys.values, count: count * state.keys.columns, limit: limit)
                    LinearAlgebra.clamp(state.values.values, count: count * state.values.columns, limit: limit)
                }
            }
            if let norms = layer.queryKeyNorms {
                rmsNormalize(state.queries.values, rows: count * config.headCount, width: config.headSize, norms.query, into: state.queries.values)
                rmsNormalize(state.keys.values, rows: count * config.keyValueHeadCount, width: config.headSize, norms.key, into: state.keys.values)
            }
            timed(.attention) {
                cache.attend(layer: index, queries: state.queries.values, keys: state.keys.values, values: state.values.values,
                             count: count, output: state.attention.values)
            }
            timed(.outputProjection) {
                layer.attentionOutput.multiply(state.attention.values, rows: count, into: state.projected.values)
            }
            if block.parallelResidual {
                // The feed-forward's norm reads the stream before the attention output joins it.
                normalize(state.hidden.values, rows: count, layer.feedForwardNorm, into: state.normed.values)
                addResidual(layer.postNorms?.attention)
            } else {
                addResidual(layer.postNorms?.attention)
                normalize(state.hidden.values, rows: count, layer.feedForwardNorm, into: state.normed.values)
            }
            timed(.feedForward) {
                // The activation lands in `gate`: silu(gate) · up, gelu(gate) · up, or, ungated, gelu(up).
                if let gate = layer.gate {
                    gate.multiply(state.normed.values, rows: count, into: state.gate.values)
                    layer.up.multiply(state.normed.values, rows: count, into: state.up.values)
                } else {
                    layer.up.multiply(state.normed.values, rows: count, into: state.gate.values)
                }
                switch block.feedForward {
                case .swiGLU: LinearAlgebra.swiGLU(gate: state.gate.values, up: state.up.values, count: count * width)
                case .geGLU: LinearAlgebra.geGLU(gate: state.gate.values, up: state.up.values, count: count * width)
                case .gelu: LinearAlgebra.gelu(state.gate.values, count: count * width)
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
            applyNorm(state.hidden.row(first), rows: logitRows.count, weights.outputNorm, into: state.normed.row(first))
            weights.output.multiply(state.normed.row(first), rows: logitRows.count, into: state.logits.values)
            if let cap = config.logitSoftCap {
                LinearAlgebra.softCap(state.logits.values, count: logitRows.count * config.vocabularySize, cap: cap)
            }
        }
    }
}
