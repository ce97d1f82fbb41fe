/// Useful floating-point operations of scoring a stream (multiply and add counted as two): every weight
/// multiplied once per fed token, the output head once per scored token, and the attention products
/// (q·k and p·v) over the keys each token may see. Masked work the chunked path also does is not counted.
public struct FLOPCount: Sendable {
    public let config: ModelConfig

    public init(config: ModelConfig) { self.config = config }

    /// 2 x the weights of the transformer blocks (the output head is separate).
    public var perFedToken: Double {
        let dim = Double(config.embeddingSize), width = Double(config.headCount * config.headSize)
        let kv = Double(config.keyValueSize), ffn = Double(config.feedForwardSize)
        // Gate, up and down; an ungated feed-forward (GPT-NeoX, Falcon, MPT) has no gate.
        let feedForwardMatrices: Double = config.block.feedForward == .gelu ? 2 : 3
        let perLayer = dim * width + 2 * dim * kv + width * dim + feedForwardMatrices * dim * ffn
        return 2 * perLayer * Double(config.layerCount)
    }

    public var perScoredToken: Double { 2 * Double(config.vocabularySize * config.embeddingSize) }

    /// q·k and p·v for one query against `keys` keys, in every head of every layer; a local layer sees at most its
    /// window of them (METHOD.md §2).
    public func attention(keys: Int) -> Double {
        let keysPerLayer = config.slidingWindow.map { sliding in
            sliding.localLayers.reduce(0) { $0 + ($1 ? min(keys, sliding.size) : keys) }
        } ?? keys * config.layerCount
        return 4 * Double(config.headCount * config.headSize * keysPerLayer)
    }

    /// Total for the first `predictions` predictions of one document streamed under `policy`
    /// (recomputation counts every token of every window pass).
    public func stream(predictions: Int, policy: CacheConfig.Policy) -> Double {
        switch policy {
        case .dense, .sinkWindow:
            let (sinks, window): (Int, Int?) = if case let .sinkWindow(s, w, _) = policy { (s, w) } else { (0, nil) }
            let prefix = if case .sinkWindow(_, _, _?) = policy { sinks } else { 0 }
            var total = Double(predictions) * perScoredToken
            for index in 0 ..< prefix + predictions {
                let keys = VisibleKeys(index: index, sinks: sinks, window: window)
                total += perFedToken + attention(keys: keys.queryRank + 1)
            }
            return total
        case .heavyHitters, .tova:
            // Every head attends to as many tokens as the policy keeps, plus the one being fed.
            let kept = policy.keptTokens ?? 0
            return (0 ..< predictions).reduce(Double(predictions) * perScoredToken) { $0 + perFedToken + attention(keys: min($1, kept) + 1) }
        case let .recompute(length, stride):
            var total = Double(predictions) * perScoredToken
            var end = 0
            while end < predictions {
                end = min(end + stride, predictions)
                let windowLength = min(length, end)
                for row in 0 ..< windowLength { total += perFedToken + attention(keys: row + 1) }
            }
            return total
        }
    }
}
