import StreamPPLKernels

/// TOVA's rule, `tova:N` (METHOD.md §2b; schwartz-lab-NLP/TOVA `TOVACache.reduce`): per layer, once more than N tokens
/// are held, drop the one whose attention from this step's query, averaged over all query heads of the layer, is
/// lowest; any token may go, the one just fed included. Ties keep the earlier token. Every KV head of a layer drops
/// the same token, so a layer's heads always hold the same tokens.
final class TOVAEviction: AttentionEvictionRule {
    let capacity: Int
    private let shape: AttentionShape

    init(capacity: Int, shape: AttentionShape) {
        self.capacity = capacity
        self.shape = shape
    }

    func drops(layer: Int, weights: UnsafePointer<Float>, count: Int) -> [Int]? {
        guard count > capacity else { return nil }
        var mean = [Double](repeating: 0, count: count)   // this step's weights summed over the layer's heads
        for head in 0 ..< shape.heads {
            let row = weights + head * count
            for j in 0 ..< count { mean[j] += Double(row[j]) }
        }
        // The sum ranks as the average does; `<=` makes the later of equal weights go.
        var lowest = 0
        for j in 1 ..< count where mean[j] <= mean[lowest] { lowest = j }
        return Array(repeating: lowest, count: shape.keyValueHeads)
    }

    var scores: [[Double]]? { nil }

    func restore(scores: [[Double]]?, count: Int) -> Bool { scores == nil }
}
