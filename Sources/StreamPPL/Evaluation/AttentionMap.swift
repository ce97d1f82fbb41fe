import StreamPPLKernels

/// Why no attention map could be measured.
public enum AttentionMapError: Error, CustomStringConvertible, Equatable {
    case tooFewTokens(path: String, found: Int, sequences: Int, length: Int)

    public var description: String {
        switch self {
        case let .tooFewTokens(path, found, sequences, length):
            "\(path): the token stream has \(found) tokens, fewer than the \(sequences) x \(length) = \(sequences * length) "
                + "the attention maps need"
        }
    }
}

/// The sequences of the paper's Figure 2: `count` non-overlapping windows of `length` consecutive tokens of the
/// dataset's token stream (METHOD.md §1, the fed tokens: documents in order, each without its last token), starting
/// at evenly spaced offsets over the first `spannedTokens` tokens, so they come from many places of the data
/// rather than all from the first book's front matter.
public struct AttentionSequences: Sendable, Equatable {
    /// The default stretch of the stream the windows are spread over (at most), a few hundred pages of text.
    public static let defaultSpan = 1_000_000

    public let tokens: [[Int32]]
    /// How many tokens from the start of the stream the windows were spread over.
    public let spannedTokens: Int

    public init(tokens: [[Int32]], spannedTokens: Int) {
        self.tokens = tokens
        self.spannedTokens = spannedTokens
    }

    /// Window k starts at k · ⌊spanned / count⌋, spanned = min(stream length, `span`).
    public init(dataset: Dataset, tokenize: @escaping (String) -> [Int32], count: Int, length: Int,
                span: Int = defaultSpan) throws {
        precondition(count > 0 && length > 0, "need at least one sequence of at least one token")
        var stream = TokenStream(dataset: dataset, maxPredictions: max(span, count * length), tokenize: tokenize)
        var streamTokens: [Int32] = []
        while let fed = stream.next() { streamTokens.append(fed.token) }
        if let error = stream.error { throw error }
        guard streamTokens.count >= count * length else {
            throw AttentionMapError.tooFewTokens(path: dataset.path, found: streamTokens.count, sequences: count, length: length)
        }
        let step = streamTokens.count / count
        self.init(tokens: (0 ..< count).map { Array(streamTokens[$0 * step ..< $0 * step + length]) }, spannedTokens: streamTokens.count)
    }

    /// The sampling rule in words, for titles and help.
    public var summary: String {
        "\(tokens.count) sequences of \(tokens.first?.count ?? 0) tokens, evenly spaced over the first \(spannedTokens) tokens of the stream"
    }
}

/// Attention probabilities per layer averaged over every head and every sequence (the paper's Figure 2):
/// row `query`, column `key`, each sequence attended densely and causally from position 0.
public struct AttentionMap: Sendable, Equatable {
    public let length: Int
    public let sequenceCount: Int
    /// Per layer (length, length) row-major; 0 above the diagonal.
    public let weights: [[Double]]

    public init(length: Int, sequenceCount: Int, weights: [[Double]]) {
        precondition(weights.allSatisfy { $0.count == length * length }, "each layer's map must be length x length")
        self.length = length
        self.sequenceCount = sequenceCount
        self.weights = weights
    }

    /// Feeds each sequence in one forward pass from scratch and averages the softmax probabilities.
    /// `progress` is called with the number of sequences done after each one.
    public init(model: any LanguageModel, sequences: [[Int32]], progress: (Int) -> Void = { _ in }) {
        let length = sequences.first?.count ?? 0
        precondition(sequences.allSatisfy { $0.count == length }, "all sequences must have the same length")
        let shape = AttentionShape(config: model.config)
        let cache = AttentionRecordingCache(shape: shape, rotary: RotaryEmbedding(config: model.config),
                                            local: LocalAttention(config: model.config), alibi: ALiBi(config: model.config))
        let state = ForwardState(config: model.config, capacity: length)
        var sums = Array(repeating: [Double](repeating: 0, count: length * length), count: shape.layers)
        for (done, sequence) in sequences.enumerated() {
            sequence.withUnsafeBufferPointer { model.forward($0, cache: cache, state: state, logitRows: 0 ..< 0) }
            for layer in 0 ..< shape.layers {
                let probabilities = cache.probabilities(layer: layer)
                for head in 0 ..< shape.heads {
                    for cell in 0 ..< length * length { sums[layer][cell] += Double(probabilities[head * length * length + cell]) }
                }
            }
            progress(done + 1)
        }
        let samples = Double(max(1, sequences.count * shape.heads))
        self.init(length: length, sequenceCount: sequences.count, weights: sums.map { $0.map { $0 / samples } })
    }

    public var layerCount: Int { weights.count }

    public func weight(layer: Int, query: Int, key: Int) -> Double { weights[layer][query * length + key] }

    /// Mean over queries `firstQuery`..<length of the weight on key 0 (token 0, the attention sink).
    /// Query 0 can only attend to itself, so `firstQuery: 1` is the informative number.
    public func meanWeightOnFirstToken(layer: Int, fromQuery firstQuery: Int) -> Double {
        guard firstQuery < length else { return .nan }
        return (firstQuery ..< length).map { weight(layer: layer, query: $0, key: 0) }.reduce(0, +) / Double(length - firstQuery)
    }

    /// What `meanWeightOnFirstToken(fromQuery: 1)` would be if every query spread its attention evenly over its keys.
    public var uniformWeightOnFirstToken: Double {
        guard length > 1 else { return .nan }
        return (1 ..< length).map { 1 / Double($0 + 1) }.reduce(0, +) / Double(length - 1)
    }
}
