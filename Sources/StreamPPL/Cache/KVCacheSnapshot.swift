import StreamPPLKernels

/// What a cache holds between two forward passes, in slot order: all a resumed run needs to continue with
/// exactly the keys and values it had, since A(i) of every later token (METHOD.md §2) draws only on these.
public struct KVCacheSnapshot: Sendable, Equatable {
    /// Tokens fed so far.
    public var fedCount: Int
    /// Stream index of each kept token: the sinks, then the window oldest first.
    public var streamIndices: [Int]
    /// Per layer (kept tokens, kvWidth), keys before rotary embedding.
    public var keys: [[Float]]
    /// Per layer (kept tokens, kvWidth).
    public var values: [[Float]]

    public init(fedCount: Int, streamIndices: [Int], keys: [[Float]], values: [[Float]]) {
        self.fedCount = fedCount
        self.streamIndices = streamIndices
        self.keys = keys
        self.values = values
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
        return streamIndices == Self.keptIndices(fedCount: fedCount, sinks: sinks, window: window)
            && keys.count == shape.layers && values.count == shape.layers
            && keys.allSatisfy { $0.count == rows } && values.allSatisfy { $0.count == rows }
    }
}

/// A cache whose content can be saved between passes and put back, for checkpoints (`run --resume`).
public protocol ResumableCache: KVCache {
    func snapshot() -> KVCacheSnapshot
    /// Replaces the content with `snapshot`; false when it does not fit this cache's shape and policy.
    func restore(_ snapshot: KVCacheSnapshot) -> Bool
}
