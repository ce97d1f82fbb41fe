import StreamPPLKernels

/// Dense causal attention over one short sequence that keeps every head's softmax probabilities, for the
/// attention maps of the paper's Figure 2.
///
/// Each forward pass is a whole sequence on its own: `prepare` forgets the previous pass, the pass's tokens
/// take positions 0..<count, and token t attends to tokens 0...t, or on a local layer to those of them within its
/// window. Rotary and grouped-query heads follow `ExactCache` (keys stored before rotary, each key and query rotated to
/// its own position with the layer's rotary, ALiBi at the same positions).
public final class AttentionRecordingCache: KVCache {
    private let shape: AttentionShape
    private let rotary: RotaryEmbedding
    private let local: LocalAttention?
    private let alibi: ALiBi?
    /// Tokens of the last pass.
    public private(set) var count = 0

    private let probabilities: [FloatBuffer]  // per layer (heads, count, count); row t is 0 beyond column t
    private let rotatedKeys = FloatBuffer()   // (count, kvWidth)
    private let rotatedQueries = FloatBuffer()  // (count, queryWidth)
    private var causal: [Range<Int>] = []       // token t sees tokens 0...t
    private var localCausal: [Range<Int>] = []  // on a local layer, those within its window
    private var bias: AttentionSegment.PositionBias?

    /// `local`: the model's local layers, when it has them; `alibi`: its position biases, when it has them.
    public init(shape: AttentionShape, rotary: RotaryEmbedding, local: LocalAttention? = nil, alibi: ALiBi? = nil) {
        self.shape = shape
        self.rotary = rotary
        self.local = local
        self.alibi = alibi
        probabilities = (0 ..< shape.layers).map { _ in FloatBuffer() }
    }

    public func prepare(count: Int) {
        self.count = count
        rotary.reserve(positions: count)
        local?.rotary.reserve(positions: count)
        rotatedKeys.reserve(count * shape.keyValueWidth)
        rotatedQueries.reserve(count * shape.queryWidth)
        causal = (0 ..< count).map { 0 ..< $0 + 1 }
        if let local { localCausal = (0 ..< count).map { max(0, local.lowestVisiblePosition(query: $0)) ..< $0 + 1 } }
        bias = alibi?.bias(queryPositions: Array(0 ..< count), keyPositions: Array(0 ..< count))
        for buffer in probabilities { buffer.reserve(shape.heads * count * count) }
    }

    public func attend(layer: Int, queries: UnsafeMutablePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                       count: Int, output: UnsafeMutablePointer<Float>) {
        precondition(count == self.count, "the recording cache was prepared for \(self.count) tokens, got \(count)")
        let kvWidth = shape.keyValueWidth, qWidth = shape.queryWidth
        let isLocal = local?.isLocal(layer) ?? false
        let rotary = isLocal ? local!.rotary : self.rotary
        for position in 0 ..< count {
            rotary.rotate(keys + position * kvWidth, into: rotatedKeys.pointer + position * kvWidth,
                          headCount: shape.keyValueHeads, position: position)
            rotary.rotate(queries + position * qWidth, into: rotatedQueries.pointer + position * qWidth, headCount: shape.heads, position: position)
        }
        let segment = AttentionSegment(queries: rotatedQueries.pointer, keys: rotatedKeys.pointer, values: values, count: count,
                                       visible: isLocal ? localCausal : causal, probabilities: probabilities[layer].pointer, products: .matrix,
                                       bias: bias)
        Attention.attend([segment], rows: count, shape: shape, output: output)
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
