import Dispatch
import StreamPPLKernels

/// A weight matrix in two forms: dequantized to Float32 for matrix-matrix products over a chunk of
/// tokens (OpenBLAS), and in its GGUF blocks, memory-mapped, for matrix-vector products of one token,
/// where reading 4-bit blocks instead of floats is what sets the speed. Both give Float32 arithmetic.
public struct Weight: Sendable {
    public let dense: FloatMatrix        // (rows, columns)
    public let blocks: QuantizedMatrix   // the same, as stored in the file
}

/// The biases some architectures (Qwen2) add to the query, key and value projections.
public struct AttentionBiases: Sendable {
    public let query: FloatMatrix           // (1, heads * headSize)
    public let key: FloatMatrix             // (1, kvHeads * headSize)
    public let value: FloatMatrix           // (1, kvHeads * headSize)
}

/// The RMSNorm weights some architectures (Gemma-3) apply to each query and key head, (1, headSize) each.
public struct QueryKeyNorms: Sendable {
    public let query: FloatMatrix
    public let key: FloatMatrix
}

/// The RMSNorm weights some architectures (Gemma-3) apply to the attention and feed-forward outputs, (1, dim) each.
public struct PostNorms: Sendable {
    public let attention: FloatMatrix
    public let feedForward: FloatMatrix
}

/// One transformer block's weights.
public struct LayerWeights: Sendable {
    public let attentionNorm: FloatMatrix   // (1, dim)
    public let query: Weight                // (heads * headSize, dim)
    public let key: Weight                  // (kvHeads * headSize, dim)
    public let value: Weight                // (kvHeads * headSize, dim)
    public let attentionBiases: AttentionBiases?
    public let queryKeyNorms: QueryKeyNorms?
    public let postNorms: PostNorms?
    public let attentionOutput: Weight      // (dim, heads * headSize)
    public let feedForwardNorm: FloatMatrix // (1, dim)
    public let gate: Weight                 // (ffn, dim)
    public let up: Weight                   // (ffn, dim)
    public let down: Weight                 // (dim, ffn)
}

/// All weights of a decoder, dequantized once at load and kept in their blocks too; the optional ones are there
/// when the architecture's `BlockOptions` ask for them.
public struct ModelWeights: Sendable {
    public let tokenEmbedding: Weight       // (vocab, dim)
    public let layers: [LayerWeights]
    public let outputNorm: FloatMatrix      // (1, dim)
    /// (vocab, dim); the same as `tokenEmbedding` when the model ties them (no `output.weight`).
    public let output: Weight
    /// The memory-mapped file the quantized blocks point into, kept open as long as the weights live.
    public let file: GGUFFile

    public init(gguf: GGUFFile, config: ModelConfig) throws(ModelError) {
        file = gguf
        var loads: [(GGUFTensorInfo, FloatMatrix)] = []
        func load(_ name: String, rows: Int, columns: Int) throws(ModelError) -> Weight {
            let dense = try loadDense(name, rows: rows, columns: columns)
            guard let tensor = gguf.tensor(named: name) else { throw .missingTensor(path: gguf.path, tensor: name) }
            return Weight(dense: dense, blocks: QuantizedMatrix(tensor: tensor, data: gguf.data(of: tensor)))
        }
        func loadDense(_ name: String, rows: Int, columns: Int) throws(ModelError) -> FloatMatrix {
            guard let tensor = gguf.tensor(named: name) else { throw .missingTensor(path: gguf.path, tensor: name) }
            let expected = rows == 1 ? [columns] : [columns, rows]
            guard tensor.dimensions == expected else {
                throw .tensorShape(path: gguf.path, tensor: name, found: tensor.dimensions, expected: expected)
            }
            let matrix = FloatMatrix(rows: rows, columns: columns)
            loads.append((tensor, matrix))
            return matrix
        }
        let dim = config.embeddingSize, block = config.block
        let attentionWidth = config.headCount * config.headSize
        tokenEmbedding = try load("token_embd.weight", rows: config.vocabularySize, columns: dim)
        var layers: [LayerWeights] = []
        for index in 0 ..< config.layerCount {
            let prefix = "blk.\(index)."
            layers.append(LayerWeights(
                attentionNorm: try loadDense(prefix + "attn_norm.weight", rows: 1, columns: dim),
                query: try load(prefix + "attn_q.weight", rows: attentionWidth, columns: dim),
                key: try load(prefix + "attn_k.weight", rows: config.keyValueSize, columns: dim),
                value: try load(prefix + "attn_v.weight", rows: config.keyValueSize, columns: dim),
                attentionBiases: block.attentionBiases ? AttentionBiases(
                    query: try loadDense(prefix + "attn_q.bias", rows: 1, columns: attentionWidth),
                    key: try loadDense(prefix + "attn_k.bias", rows: 1, columns: config.keyValueSize),
                    value: try loadDense(prefix + "attn_v.bias", rows: 1, columns: config.keyValueSize)) : nil,
                queryKeyNorms: block.queryKeyNorm ? QueryKeyNorms(
                    query: try loadDense(prefix + "attn_q_norm.weight", rows: 1, columns: config.headSize),
                    key: try loadDense(prefix + "attn_k_norm.weight", rows: 1, columns: config.headSize)) : nil,
                postNorms: block.postNorms ? PostNorms(
                    attention: try loadDense(prefix + "post_attention_norm.weight", rows: 1, columns: dim),
                    feedForward: try loadDense(prefix + "post_ffw_norm.weight", rows: 1, columns: dim)) : nil,
                attentionOutput: try load(prefix + "attn_output.weight", rows: dim, columns: attentionWidth),
                feedForwardNorm: try loadDense(prefix + "ffn_norm.weight", rows: 1, columns: dim),
                gate: try load(prefix + "ffn_gate.weight", rows: config.feedForwardSize, columns: dim),
                up: try load(prefix + "ffn_up.weight", rows: config.feedForwardSize, columns: dim),
                down: try load(prefix + "ffn_down.weight", rows: dim, columns: config.feedForwardSize)))
        }
        self.layers = layers
        outputNorm = try loadDense("output_norm.weight", rows: 1, columns: dim)
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
