/// Dense causal attention over one short sequence that keeps every head's softmax probabilities, for the
/// attention maps of the paper's Figure 2.
///
/// Each forward pass is a whole sequence on its own: `prepare` forgets the previous pass, the pass's tokens
/// take positions 0..<count, and token t attends to tokens 0...t. Rotary and grouped-query heads follow
/// `ExactCache` (keys stored before rotary, each key and query rotated to its own position).
public final class AttentionRecordingCache: KVCache {
    private let shape: AttentionShape
    private let rotary: RotaryEmbedding
    /// Tokens of the last pass.
    public private(set) var count = 0

    private let probabilities: [FloatBuffer]  // per layer (heads, count, count); row t is 0 beyond column t
    private let rotatedKeys = FloatBuffer()   // (count, kvWidth)
    private let query = FloatBuffer()         // (queryWidth)

    public init(shape: AttentionShape, rotary: RotaryEmbedding) {
        self.shape = shape
        self.rotary = rotary
        probabilities = (0 ..< shape.layers).map { _ in FloatBuffer() }
        query.reserve(shape.queryWidth)
    }

    public func prepare(count: Int) {
        self.count = count
        rotary.reserve(positions: count)
        rotatedKeys.reserve(count * shape.keyValueWidth)
        for buffer in probabilities {
            buffer.reserve(shape.heads * count * count)
            buffer.pointer.update(repeating: 0, count: shape.heads * count * count)
        }
    }

    public func attend(layer: Int, queries: UnsafeMutablePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                       count: Int, output: UnsafeMutablePointer<Float>) {
        precondition(count == self.count, "the recording cache was prepared for \(self.count) tokens, got \(count)")
        let kvWidth = shape.keyValueWidth, qWidth = shape.queryWidth, headSize = shape.headSize
        for position in 0 ..< count {
            rotary.rotate(keys + position * kvWidth, into: rotatedKeys.pointer + position * kvWidth,
                          headCount: shape.keyValueHeads, position: position)
        }
        for position in 0 ..< count {
            rotary.rotate(queries + position * qWidth, into: query.pointer, headCount: shape.heads, position: position)
            for head in 0 ..< shape.heads {
                let group = head / shape.groupSize
                let q = query.pointer + head * headSize
                let row = probabilities[layer].pointer + (head * count + position) * count
                for key in 0 ... position {
                    row[key] = shape.scale * LinearAlgebra.dot(q, rotatedKeys.pointer + key * kvWidth + group * headSize, count: headSize)
                }
                LinearAlgebra.softmax(row, count: position + 1)
                let out = output + position * qWidth + head * headSize
                out.update(repeating: 0, count: headSize)
                for key in 0 ... position {
                    let value = values + key * kvWidth + group * headSize
                    let p = row[key]
                    for d in 0 ..< headSize { out[d] += p * value[d] }
                }
            }
        }
    }

    public func commit(count: Int) {}

    /// The probability with which `query` of head `head` attended to `key` in the last pass (0 when key > query).
    public func probability(layer: Int, head: Int, query: Int, key: Int) -> Float {
        probabilities[layer].pointer[(head * count + query) * count + key]
    }

    /// Layer `layer`'s probabilities of the last pass, (heads, count, count) row-major.
    func probabilities(layer: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: probabilities[layer].pointer, count: shape.heads * count * count)
    }
}
