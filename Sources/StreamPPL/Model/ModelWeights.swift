import Dispatch
import StreamPPLKernels

/// A weight matrix in two forms: dequantized to Float32 for matrix-matrix products over a chunk of
/// tokens (OpenBLAS), and in its GGUF blocks, memory-mapped, for matrix-vector products of one token,
/// where reading 4-bit blocks instead of floats is what sets the speed. Both give Float32 arithmetic.
public struct Weight: Sendable {
    public let dense: FloatMatrix        // (rows, columns)
    public let blocks: QuantizedMatrix   // the same, as stored in the file
    /// (1, rows), added to every product, for the projections that have one.
    public let bias: FloatMatrix?
}

/// A norm's scale, and LayerNorm's bias when the model has one, (1, width) each.
public struct Norm: Sendable {
    public let weight: FloatMatrix
    public let bias: FloatMatrix?
}

/// The RMSNorm weights some architectures (Gemma-3, Qwen3) apply to each query and key head, (1, headSize) each.
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
    public let attentionNorm: Norm          // (1, dim)
    public let query: Weight                // (heads * headSize, dim)
    public let key: Weight                  // (kvHeads * headSize, dim)
    public let value: Weight                // (kvHeads * headSize, dim)
    public let queryKeyNorms: QueryKeyNorms?
    public let postNorms: PostNorms?
    public let attentionOutput: Weight      // (dim, heads * headSize)
    public let feedForwardNorm: Norm        // (1, dim)
    public let gate: Weight?                // (ffn, dim), when the feed-forward is gated
    public let up: Weight                   // (ffn, dim)
    public let down: Weight                 // (dim, ffn)
}

/// All weights of a decoder, dequantized once at load and kept in their blocks too; the optional ones are there
/// when the architecture's `BlockOptions` ask for them.
public struct ModelWeights: Sendable {
    public let tokenEmbedding: Weight       // (vocab, dim)
    public let layers: [LayerWeights]
    public let outputNorm: Norm             // (1, dim)
    /// (vocab, dim); the same as `tokenEmbedding` when the model ties them (no `output.weight`).
    public let output: Weight
    /// The memory-mapped file the quantized blocks point into, kept open as long as the weights live.
    public let file: GGUFFile

    public init(gguf: GGUFFile, config: ModelConfig) throws(ModelError) {
        file = gguf
        let path = gguf.path
        // Each dense matrix with where its values start in the file: a fused tensor's parts start inside it.
        var loads: [(type: TensorType, data: UnsafeRawPointer, matrix: FloatMatrix)] = []
        func tensor(_ name: String, expected: [Int]) throws(ModelError) -> GGUFTensorInfo {
            guard let tensor = gguf.tensor(named: name) else { throw .missingTensor(path: path, tensor: name) }
            guard tensor.dimensions == expected else { throw .tensorShape(path: path, tensor: name, found: tensor.dimensions, expected: expected) }
            return tensor
        }
        /// Consecutive parts of `tensor`'s values, one matrix of each shape: where each part's values start, and
        /// the matrix they dequantize into.
        func parts(of tensor: GGUFTensorInfo, shapes: [(rows: Int, columns: Int)]) throws(ModelError) -> [(UnsafeRawPointer, FloatMatrix)] {
            var start = 0
            var result: [(UnsafeRawPointer, FloatMatrix)] = []
            for (rows, columns) in shapes {
                // Weight rows hold whole blocks; only a fused bias stored in a block type could split one.
                guard start % tensor.type.blockElements == 0 else {
                    throw .tensorShape(path: path, tensor: tensor.name, found: tensor.dimensions, expected: shapes.map { $0.rows * $0.columns })
                }
                let data = gguf.data(of: tensor) + start / tensor.type.blockElements * tensor.type.blockBytes
                let matrix = FloatMatrix(rows: rows, columns: columns)
                loads.append((tensor.type, data, matrix))
                result.append((data, matrix))
                start += rows * columns
            }
            return result
        }
        func vector(_ name: String, width: Int) throws(ModelError) -> FloatMatrix {
            try parts(of: try tensor(name, expected: [width]), shapes: [(1, width)])[0].1
        }
        /// Whether to load `name`: a required one is loaded (or missing, an error), an optional one when the file has it.
        func wanted(_ name: String, _ presence: BlockOptions.Presence) -> Bool {
            presence == .required || (presence == .optional && gguf.tensor(named: name) != nil)
        }
        func vector(_ name: String, width: Int, _ presence: BlockOptions.Presence) throws(ModelError) -> FloatMatrix? {
            wanted(name, presence) ? try vector(name, width: width) : nil
        }
        /// `rows` consecutive row blocks of the matrix `name` (columns wide), each with its part of `bias`'s values.
        func matrices(_ name: String, rows: [Int], columns: Int, bias: String?, _ presence: BlockOptions.Presence) throws(ModelError) -> [Weight] {
            let total = rows.reduce(0, +)
            let weight = try tensor(name, expected: [columns, total])
            let matrices = try parts(of: weight, shapes: rows.map { ($0, columns) })
            var biases: [FloatMatrix?] = rows.map { _ in nil }
            if let bias, wanted(bias, presence) {
                biases = try parts(of: try tensor(bias, expected: [total]), shapes: rows.map { (1, $0) }).map(\.1)
            }
            return zip(zip(matrices, rows), biases).map { part, bias in
                let ((data, dense), rowCount) = part
                return Weight(dense: dense, blocks: QuantizedMatrix(type: weight.type, rows: rowCount, columns: columns, data: data), bias: bias)
            }
        }
        func matrix(_ name: String, rows: Int, columns: Int, bias presence: BlockOptions.Presence = .absent) throws(ModelError) -> Weight {
            let bias = name.hasSuffix(".weight") ? String(name.dropLast(".weight".count)) + ".bias" : nil
            return try matrices(name, rows: [rows], columns: columns, bias: bias, presence)[0]
        }
        let dim = config.embeddingSize, block = config.block
        let attentionWidth = config.headCount * config.headSize
        func norm(_ name: String, bias: BlockOptions.Presence? = nil) throws(ModelError) -> Norm {
            Norm(weight: try vector(name + ".weight", width: dim),
                 bias: try vector(name + ".bias", width: dim, block.normalization == .layer ? bias ?? block.normBiases : .absent))
        }
        tokenEmbedding = try matrix("token_embd.weight", rows: config.vocabularySize, columns: dim)
        var layers: [LayerWeights] = []
        for index in 0 ..< config.layerCount {
            let prefix = "blk.\(index)."
            let qkvRows = [attentionWidth, config.keyValueSize, config.keyValueSize]
            let fused = block.fusedQueryKeyValue == .required
                || block.fusedQueryKeyValue == .optional && gguf.tensor(named: prefix + "attn_qkv.weight") != nil
            let qkv = fused
                ? try matrices(prefix + "attn_qkv.weight", rows: qkvRows, columns: dim, bias: prefix + "attn_qkv.bias", block.attentionBiases)
                : [try matrix(prefix + "attn_q.weight", rows: qkvRows[0], columns: dim, bias: block.attentionBiases),
                   try matrix(prefix + "attn_k.weight", rows: qkvRows[1], columns: dim, bias: block.attentionBiases),
                   try matrix(prefix + "attn_v.weight", rows: qkvRows[2], columns: dim, bias: block.attentionBiases)]
            let attentionNorm = try norm(prefix + "attn_norm")
            layers.append(LayerWeights(
                attentionNorm: block.sharedNorm && gguf.tensor(named: prefix + "attn_norm_2.weight") != nil
                    ? try norm(prefix + "attn_norm_2", bias: .optional) : attentionNorm,
                query: qkv[0], key: qkv[1], value: qkv[2],
                queryKeyNorms: block.queryKeyNorm ? QueryKeyNorms(
                    query: try vector(prefix + "attn_q_norm.weight", width: config.headSize),
                    key: try vector(prefix + "attn_k_norm.weight", width: config.headSize)) : nil,
                postNorms: block.postNorms ? PostNorms(
                    attention: try vector(prefix + "post_attention_norm.weight", width: dim),
                    feedForward: try vector(prefix + "post_ffw_norm.weight", width: dim)) : nil,
                attentionOutput: try matrix(prefix + "attn_output.weight", rows: dim, columns: attentionWidth, bias: block.projectionBiases),
                feedForwardNorm: block.sharedNorm ? attentionNorm : try norm(prefix + "ffn_norm"),
                gate: block.feedForward.isGated ? try matrix(prefix + "ffn_gate.weight", rows: config.feedForwardSize, columns: dim) : nil,
                up: try matrix(prefix + "ffn_up.weight", rows: config.feedForwardSize, columns: dim, bias: block.projectionBiases),
                down: try matrix(prefix + "ffn_down.weight", rows: dim, columns: config.feedForwardSize, bias: block.projectionBiases)))
        }
        self.layers = layers
        outputNorm = try norm("output_norm")
        output = gguf.tensor(named: "output.weight") == nil && !block.requiresOutputWeight
            ? tokenEmbedding
            : try matrix("output.weight", rows: config.vocabularySize, columns: dim)

        // Tensors are independent, so dequantize them on all cores: this is most of the start-up time.
        DispatchQueue.concurrentPerform(iterations: loads.count) { index in
            let (type, data, matrix) = loads[index]
            dequantize(type, from: data, into: matrix.values, count: matrix.rows * matrix.columns)
        }
    }
}

extension Weight {
    /// y (rows x self.rows) = x (rows x self.columns) · selfᵀ. One token reads the quantized blocks (a matrix-vector
    /// product is bound by the bytes it reads); a chunk of tokens runs as a Float32 sgemm. Then the bias, if any.
    func multiply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        if rows == 1 {
            blocks.multiply(x, into: y)
        } else {
            LinearAlgebra.multiply(x, rows: rows, by: dense, into: y)
        }
        if let bias { LinearAlgebra.addToEachRow(bias.values, of: y, rows: rows, width: dense.rows) }
    }
}
