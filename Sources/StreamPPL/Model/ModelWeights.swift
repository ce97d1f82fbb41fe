import Dispatch

/// One transformer block's weights, dequantized to Float32.
public struct LayerWeights: Sendable {
    public let attentionNorm: FloatMatrix   // (1, dim)
    public let query: FloatMatrix           // (heads * headSize, dim)
    public let key: FloatMatrix             // (kvHeads * headSize, dim)
    public let value: FloatMatrix           // (kvHeads * headSize, dim)
    public let attentionOutput: FloatMatrix // (dim, heads * headSize)
    public let feedForwardNorm: FloatMatrix // (1, dim)
    public let gate: FloatMatrix            // (ffn, dim)
    public let up: FloatMatrix              // (ffn, dim)
    public let down: FloatMatrix            // (dim, ffn)
}

/// All weights of a Llama-architecture model, dequantized once at load so every product runs in Float32.
public struct ModelWeights: Sendable {
    public let tokenEmbedding: FloatMatrix  // (vocab, dim)
    public let layers: [LayerWeights]
    public let outputNorm: FloatMatrix      // (1, dim)
    /// (vocab, dim); the same object as `tokenEmbedding` when the model ties them (no `output.weight`).
    public let output: FloatMatrix

    public init(gguf: GGUFFile, config: ModelConfig) throws(ModelError) {
        var loads: [(GGUFTensorInfo, FloatMatrix)] = []
        func load(_ name: String, rows: Int, columns: Int) throws(ModelError) -> FloatMatrix {
            guard let tensor = gguf.tensor(named: name) else { throw .missingTensor(path: gguf.path, tensor: name) }
            let expected = rows == 1 ? [columns] : [columns, rows]
            guard tensor.dimensions == expected else {
                throw .tensorShape(path: gguf.path, tensor: name, found: tensor.dimensions, expected: expected)
            }
            let matrix = FloatMatrix(rows: rows, columns: columns)
            loads.append((tensor, matrix))
            return matrix
        }
        let dim = config.embeddingSize
        let attentionWidth = config.headCount * config.headSize
        tokenEmbedding = try load("token_embd.weight", rows: config.vocabularySize, columns: dim)
        var layers: [LayerWeights] = []
        for index in 0 ..< config.layerCount {
            let prefix = "blk.\(index)."
            layers.append(LayerWeights(
                attentionNorm: try load(prefix + "attn_norm.weight", rows: 1, columns: dim),
                query: try load(prefix + "attn_q.weight", rows: attentionWidth, columns: dim),
                key: try load(prefix + "attn_k.weight", rows: config.keyValueSize, columns: dim),
                value: try load(prefix + "attn_v.weight", rows: config.keyValueSize, columns: dim),
                attentionOutput: try load(prefix + "attn_output.weight", rows: dim, columns: attentionWidth),
                feedForwardNorm: try load(prefix + "ffn_norm.weight", rows: 1, columns: dim),
                gate: try load(prefix + "ffn_gate.weight", rows: config.feedForwardSize, columns: dim),
                up: try load(prefix + "ffn_up.weight", rows: config.feedForwardSize, columns: dim),
                down: try load(prefix + "ffn_down.weight", rows: dim, columns: config.feedForwardSize)))
        }
        self.layers = layers
        outputNorm = try load("output_norm.weight", rows: 1, columns: dim)
        output = gguf.tensor(named: "output.weight") == nil
            ? tokenEmbedding
            : try load("output.weight", rows: config.vocabularySize, columns: dim)

        // Tensors are independent, so dequantize them on all cores: this is most of the start-up time.
        DispatchQueue.concurrentPerform(iterations: loads.count) { index in
            let (tensor, matrix) = loads[index]
            dequantize(tensor.type, from: gguf.data(of: tensor), into: matrix.values, count: tensor.elementCount)
        }
    }
}
