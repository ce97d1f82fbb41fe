import StreamPPLKernels

/// How a cache that evicts by attention picks what to drop after a step (METHOD.md §2b): one type per policy.
protocol AttentionEvictionRule: AnyObject {
    /// Tokens a layer keeps between two steps.
    var capacity: Int { get }
    /// Called once per layer and step, after the attention of the token just fed, with `weights` (heads, count): each
    /// query head's probabilities over the `count` tokens its KV head holds (in stream order, the new one last).
    /// Returns, per KV head, the index of the token it drops; nil while the layer holds no more than `capacity`.
    func drops(layer: Int, weights: UnsafePointer<Float>, count: Int) -> [Int]?
    /// What the rule carries from step to step beside the kept tokens, for checkpoints (H2O's scores), laid out as
    /// `KVCacheSnapshot.keptByHead`.
    var scores: [[Double]]? { get }
    /// Puts saved scores back; false when they do not fit kept lists of `count` tokens.
    func restore(scores: [[Double]]?, count: Int) -> Bool
}

/// The token-by-token cache of H2O and TOVA (METHOD.md §2b): every layer and KV head keeps its own tokens, in stream
/// order; each step the new token is appended, attends to what its KV head holds (itself included), and then the
/// rule may drop one token per KV head. Keys are cached before rotary embedding and turned, at every step, to their
/// rank among the kept tokens (or their stream position under `PositionMode.original`), as `ExactCache` does.
///
/// Dropping a token moves the later rows up by one, so a head's rows are always its kept tokens in stream order:
/// positions, local windows and ALiBi distances then read as for `x+y`, and a checkpoint is just those rows.
final class ScoredEvictionCache: ResumableCache {
    let positions: PositionMode
    private let shape: AttentionShape
    /// One KV head and the query heads that share it: the attention kernel runs head group by head group, since
    /// the groups attend to different tokens.
    private let groupShape: AttentionShape
    private let rotary: RotaryEmbedding
    private let local: LocalAttention?
    private let alibi: ALiBi?
    private let rule: AttentionEvictionRule
    /// Per layer and KV head (index layer · kvHeads + head): (capacity + 1, headSize) keys before rotary, kept tokens
    /// in stream order, then room for the one being fed.
    private let keys: [FloatBuffer]
    /// Per layer and KV head, laid out as `keys`.
    private let values: [FloatBuffer]
    /// Per layer and KV head: the stream index of each kept token, ascending.
    private var kept: [[Int]]
    private var fedCount = 0

    private let rotatedKeys = FloatBuffer()   // (count, headSize): one KV head's keys at this step's positions
    private let query = FloatBuffer()         // (heads · headSize), rotated
    private let weights = FloatBuffer()       // (heads, count): this layer's attention probabilities

    init(shape: AttentionShape, rotary: RotaryEmbedding, rule: AttentionEvictionRule, positions: PositionMode = .cache,
         local: LocalAttention? = nil, alibi: ALiBi? = nil) {
        self.shape = shape
        groupShape = AttentionShape(layers: 1, heads: shape.groupSize, keyValueHeads: 1, headSize: shape.headSize)
        self.rotary = rotary
        self.rule = rule
        self.positions = positions
        self.local = local
        self.alibi = alibi
        let lists = shape.layers * shape.keyValueHeads, rows = rule.capacity + 1
        keys = (0 ..< lists).map { _ in FloatBuffer(capacity: rows * shape.headSize) }
        values = (0 ..< lists).map { _ in FloatBuffer(capacity: rows * shape.headSize) }
        kept = Array(repeating: [], count: lists)
        query.reserve(shape.queryWidth)
        rotatedKeys.reserve(rows * shape.headSize)
        weights.reserve(shape.heads * rows)
    }

    func prepare(count: Int) {
        precondition(count == 1, "a cache that evicts by attention feeds one token per forward pass")
    }

    func attend(layer: Int, queries: UnsafeMutablePointer<Float>, keys newKeys: UnsafePointer<Float>, values newValues: UnsafePointer<Float>,
                count: Int, output: UnsafeMutablePointer<Float>) {
        let headSize = shape.headSize, group = shape.groupSize
        // Every KV head of a layer holds as many tokens: the same positions under `.cache`.
        let n = kept[layer * shape.keyValueHeads].count + 1
        let isLocal = local?.isLocal(layer) ?? false
        let rotary = isLocal ? local!.rotary : self.rotary
        rotary.reserve(positions: n)
        let queryPosition = positions == .cache ? n - 1 : fedCount
        rotary.rotate(queries, into: query.pointer, headCount: shape.heads, position: queryPosition)
        let lowest = isLocal ? local!.lowestVisiblePosition(query: queryPosition) : Int.min
        for head in 0 ..< shape.keyValueHeads {
            let list = layer * shape.keyValueHeads + head
            kept[list].append(fedCount)
            (keys[list].pointer + (n - 1) * headSize).update(from: newKeys + head * headSize, count: headSize)
            (values[list].pointer + (n - 1) * headSize).update(from: newValues + head * headSize, count: headSize)
            let keyPositions = positions == .cache ? Array(0 ..< n) : kept[list]
            for j in 0 ..< n {
                rotary.rotate(keys[list].pointer + j * headSize, into: rotatedKeys.pointer + j * headSize, headCount: 1,
                              position: keyPositions[j])
            }
            // Positions ascend with the rows, so a local layer's visible keys are the last ones.
            let firstVisible = keyPositions.firstIndex { $0 >= lowest } ?? n - 1
            let heads = head * group ..< (head + 1) * group
            let bias = alibi.map {
                AttentionSegment.PositionBias(slopes: Array($0.slopes[heads]), queryPositions: [queryPosition], keyPositions: keyPositions)
            }
            let segment = AttentionSegment(queries: query.pointer + heads.lowerBound * headSize, keys: rotatedKeys.pointer,
                                           values: values[list].pointer, count: n, visible: [firstVisible ..< n],
                                           probabilities: weights.pointer + heads.lowerBound * n, products: .vector, bias: bias)
            Attention.attend([segment], rows: 1, shape: groupShape, output: output + heads.lowerBound * headSize)
        }
        // Dropping now rather than after the last layer changes nothing: this layer's cache is not read again this step.
        guard let drops = rule.drops(layer: layer, weights: weights.pointer, count: n) else { return }
        for (head, index) in drops.enumerated() {
            let list = layer * shape.keyValueHeads + head
            kept[list].remove(at: index)
            for buffer in [keys[list], values[list]] {
                let row = buffer.pointer + index * headSize
                row.update(from: row + headSize, count: (n - 1 - index) * headSize)
            }
        }
    }

    func commit(count: Int) {
        fedCount += count
    }

    func snapshot() -> KVCacheSnapshot {
        let headSize = shape.headSize
        func rows(_ buffers: [FloatBuffer]) -> [[Float]] {
            (0 ..< shape.layers).map { layer in
                (0 ..< shape.keyValueHeads).flatMap { head in
                    let list = layer * shape.keyValueHeads + head
                    return UnsafeBufferPointer(start: buffers[list].pointer, count: kept[list].count * headSize)
                }
            }
        }
        return KVCacheSnapshot(fedCount: fedCount, streamIndices: [], keys: rows(keys), values: rows(values), keptByHead: kept,
                               scores: rule.scores)
    }

    var heldTokens: Int { kept.first?.count ?? 0 }

    func keptStreamIndices(below limit: Int) -> [[[Int]]] {
        (0 ..< shape.layers).map { layer in
            kept[layer * shape.keyValueHeads ..< (layer + 1) * shape.keyValueHeads].map { $0.filter { $0 < limit } }
        }
    }

    func restore(_ snapshot: KVCacheSnapshot) -> Bool {
        let lists = shape.layers * shape.keyValueHeads, headSize = shape.headSize
        guard snapshot.streamIndices.isEmpty, let saved = snapshot.keptByHead, saved.count == lists else { return false }
        let count = saved[0].count
        let fits = count <= min(rule.capacity, snapshot.fedCount)
            && saved.allSatisfy { $0.count == count && zip($0, $0.dropFirst()).allSatisfy { $0 < $1 } && ($0.last ?? -1) < snapshot.fedCount }
            && snapshot.keys.count == shape.layers && snapshot.values.count == shape.layers
            && (snapshot.keys + snapshot.values).allSatisfy { $0.count == shape.keyValueHeads * count * headSize }
        guard fits, rule.restore(scores: snapshot.scores, count: count) else { return false }
        fedCount = snapshot.fedCount
        kept = saved
        for layer in 0 ..< shape.layers where count > 0 {
            for head in 0 ..< shape.keyValueHeads {
                let list = layer * shape.keyValueHeads + head, offset = head * count * headSize
                for (buffer, source) in [(keys[list], snapshot.keys[layer]), (values[list], snapshot.values[layer])] {
                    source.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress! + offset, count: count * headSize) }
                }
            }
        }
        return true
    }
}
