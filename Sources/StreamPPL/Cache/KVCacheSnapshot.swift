import StreamPPLKernels

/// What a cache holds between two forward passes, in slot order: all a resumed run needs to continue with
/// exactly the keys and values it had, since A(i) of every later token (METHOD.md §2) draws only on these.
public struct KVCacheSnapshot: Sendable, Equatable {
    /// Tokens fed so far.
    public var fedCount: Int
    /// Stream index of each kept token: the sinks, then the window oldest first (empty when `keptByHead` is set).
    public var streamIndices: [Int]
    /// Per layer (kept tokens, kvWidth), keys before rotary embedding; by KV head when `keptByHead` is set: each head's
    /// (kept tokens, headSize) block, head after head.
    public var keys: [[Float]]
    /// Per layer, laid out as `keys`.
    public var values: [[Float]]
    /// For caches whose layers and KV heads keep tokens of their own (h2o, tova; METHOD.md §2b): per layer and KV head
    /// (layer-major), the stream indices kept, in stream order.
    public var keptByHead: [[Int]]?
    /// H2O's accumulated attention of each token in `keptByHead`, laid out alike.
    public var scores: [[Double]]?

    public init(fedCount: Int, streamIndices: [Int], keys: [[Float]], values: [[Float]], keptByHead: [[Int]]? = nil,
                scores: [[Double]]? = nil) {
        self.fedCount = fedCount
        self.streamIndices = streamIndices
        self.keys = keys
        self.values = values
        self.keptByHead = keptByHead
        self.scores = scores
    }

    /// The stream indices a cache keeps after `fedCount` tokens under `sinks` + `window` (METHOD.md §2's eviction):
    /// the sinks and the window the next token sees.
    static func keptIndices(fedCount: Int, sinks: Int, window: Int?) -> [Int] {
        let windowStart = max(sinks, window.map { fedCount - $0 } ?? sinks)
        return Array(0 ..< min(sinks, fedCount)) + Array(windowStart ..< max(windowStart, fedCount))
    }

    /// Whether this snapshot can have come from a cache of `shape` keeping `sinks` + `window` tokens.
    func fits(_ shape: AttentionShape, sinks: Int, window: Int?) -> Bool {
        let rows = streamIndices.count * shape.keyValueWidth
        return keptByHead == nil && scores == nil && streamIndices == Self.keptIndices(fedCount: fedCount, sinks: sinks, window: window)
            && keys.count == shape.layers && values.count == shape.layers
            && keys.allSatisfy { $0.count == rows } && values.allSatisfy { $0.count == rows }
    }
}

/// A cache whose content can be saved between passes and put back, for checkpoints (`run --resume`).
public protocol ResumableCache: KVCache {
    func snapshot() -> KVCacheSnapshot
    /// Replaces the content with `snapshot`; false when it does not fit this cache's shape and policy.
    func restore(_ snapshot: KVCacheSnapshot) -> Bool
    /// Per layer, per KV head, the stream indices below `limit` that the cache holds now: which of the stream's first
    /// tokens a policy keeps (`x+y` its sinks; h2o and tova whatever their scores kept).
    func keptStreamIndices(below limit: Int) -> [[[Int]]]
    /// Tokens the cache holds between two passes (per layer and KV head: they all hold as many).
    var heldTokens: Int { get }
}

extension KVCacheSnapshot {
    /// `keptStreamIndices(below:)` of a cache keeping `sinks` + `window` (nil: dense) after `fedCount` tokens in every
    /// layer and head.
    static func keptStreamIndices(below limit: Int, fedCount: Int, sinks: Int, window: Int?, shape: AttentionShape) -> [[[Int]]] {
        let early = keptIndices(fedCount: fedCount, sinks: sinks, window: window).filter { $0 < limit }
        return Array(repeating: Array(repeating: early, count: shape.keyValueHeads), count: shape.layers)
    }
}
