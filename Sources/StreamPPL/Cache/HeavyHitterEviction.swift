import StreamPPLKernels

/// H2O's rule, `h2o:H+R` (METHOD.md §2b; FMInference/H2O `H2OKVCache_LayerWise`, with grouped-query heads summed):
/// per layer and KV head, keep the `recent` most recent tokens and, of the others, the `heavy` with the highest
/// score, a token's score being the attention it has received, summed over the query heads of its KV head and over
/// every step since it entered the cache, its own step included. Ties keep the earlier token.
final class HeavyHitterEviction: AttentionEvictionRule {
    let heavy: Int
    let recent: Int
    private let shape: AttentionShape
    /// Per layer and KV head (layer-major): each kept token's score, in stream order. Double, so that a score summed over
    /// a long stream does not lose the small weights it keeps receiving.
    private var accumulated: [[Double]]

    init(heavy: Int, recent: Int, shape: AttentionShape) {
        self.heavy = heavy
        self.recent = recent
        self.shape = shape
        accumulated = Array(repeating: [], count: shape.layers * shape.keyValueHeads)
    }

    var capacity: Int { heavy + recent }

    func drops(layer: Int, weights: UnsafePointer<Float>, count: Int) -> [Int]? {
        let group = shape.groupSize
        let full = count > capacity
        var drops: [Int] = []
        for head in 0 ..< shape.keyValueHeads {
            let list = layer * shape.keyValueHeads + head
            accumulated[list].append(0)
            let lowest = accumulated[list].withUnsafeMutableBufferPointer { scores -> Int? in
                for queryHead in head * group ..< (head + 1) * group {
                    let row = weights + queryHead * count
                    for j in 0 ..< count { scores[j] += Double(row[j]) }
                }
                guard full else { return nil }
                // The candidates are all but the `recent` newest (at least one, as count > heavy + recent); `<=` makes
                // the later of equal scores go.
                var lowest = 0
                for j in 1 ..< count - recent where scores[j] <= scores[lowest] { lowest = j }
                return lowest
            }
            if let lowest {
                accumulated[list].remove(at: lowest)
                drops.append(lowest)
            }
        }
        return full ? drops : nil
    }

    var scores: [[Double]]? { accumulated }

    func restore(scores: [[Double]]?, count: Int) -> Bool {
        guard let scores, scores.count == accumulated.count, scores.allSatisfy({ $0.count == count }) else { return false }
        accumulated = scores
        return true
    }
}
