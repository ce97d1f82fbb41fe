import StreamPPLKernels

/// Stores the keys and values of the tokens fed so far and decides what each new token attends to.
/// The model hands it each layer's fresh projections; eviction and positions are the cache's business.
public protocol KVCache: AnyObject {
    /// Called once before a forward pass of `count` tokens (the next `count` tokens of the stream).
    func prepare(count: Int)
    /// Stores layer `layer`'s keys and values (before rotary) of the `count` tokens being fed and writes
    /// each token's attention output. Shapes: queries/output (count, heads*headSize), keys/values (count, kvHeads*headSize).
    func attend(layer: Int, queries: UnsafeMutablePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                count: Int, output: UnsafeMutablePointer<Float>)
    /// The `count` tokens have gone through every layer; eviction applies from here on (METHOD.md §2: after each step).
    func commit(count: Int)
}

extension AttentionShape {
    public init(config: ModelConfig) {
        self.init(layers: config.layerCount, heads: config.headCount, keyValueHeads: config.keyValueHeadCount, headSize: config.headSize)
    }
}

/// Which positions rotary embedding sees (METHOD.md §2).
public enum PositionMode: String, Sendable, CaseIterable {
    /// Each key at the rank of its slot in the cache, the query at the next slot: the paper's method.
    case cache
    /// Every token at its original stream position, which breaks past the training window.
    case original
}

/// Which fed tokens token `index` of the stream attends to under `sinks + window` (METHOD.md §2):
/// A(i) = { j <= i : j < sinks or j >= i - window }; `window == nil` is dense. `floor` drops the window's tokens below
/// it as well: the room a conversation makes before a prompt (`StreamingCache.makeRoom`).
struct VisibleKeys: Equatable {
    let sinkCount: Int       // keys 0..<sinkCount
    let windowStart: Int     // keys windowStart...index (empty when windowStart > index)
    let index: Int

    init(index: Int, sinks: Int, window: Int?, floor: Int = 0) {
        self.index = index
        sinkCount = min(sinks, index + 1)
        let lowest = window.map { index - $0 } ?? 0
        windowStart = max(sinks, lowest, floor)
    }

    var windowCount: Int { max(0, index - windowStart + 1) }
    /// |A(i)| - 1: the query's rank, i.e. its position under `PositionMode.cache`.
    var queryRank: Int { sinkCount + windowCount - 1 }
}
