/// One token fed to the model and, unless it is a sink-prefix token, the prediction it is scored on.
public struct FedToken: Sendable, Equatable {
    public let token: Int32
    public let target: Target?

    /// The token that follows in the same document: METHOD.md §1 scores NLL(token i+1) when token i is fed.
    public struct Target: Sendable, Equatable {
        public let document: Int
        public let position: Int   // the target's index within its document
        public let token: Int32
    }
}

/// The fed tokens of a whole dataset in order (METHOD.md §1): each document tokenized on its own when reached,
/// its tokens 0..n-2 fed with targets 1..n-1, optionally preceded by an unscored sink prefix.
/// Stops after `maxPredictions` targets.
public struct TokenStream: IteratorProtocol {
    private let dataset: Dataset
    private let tokenize: (String) -> [Int32]
    private var prefix: [Int32]
    private let maxPredictions: Int
    private var document = -1
    private var tokens: [Int32] = []
    private var cursor = 0
    public private(set) var predictions = 0
    /// Documents too short to score (fewer than two tokens), in stream order.
    public private(set) var skippedDocuments: [Int] = []
    /// The first error met reading a document; the stream ends there.
    public private(set) var error: DatasetError?

    /// Where the stream stands: enough to continue it from the same token after a restart.
    public struct Position: Sendable, Equatable, Codable {
        /// Sink-prefix tokens not fed yet.
        public var prefixRemaining: Int
        public var document: Int
        /// Index within `document` of the next token to feed.
        public var cursor: Int
        public var predictions: Int
        /// Documents passed over so far because they have fewer than the two tokens a prediction needs
        /// (nil: none, and in checkpoints written before they were recorded).
        public var skippedDocuments: [Int]?
    }

    public init(dataset: Dataset, prefix: [Int32] = [], maxPredictions: Int = .max, tokenize: @escaping (String) -> [Int32]) {
        self.dataset = dataset
        self.prefix = prefix.reversed()
        self.maxPredictions = maxPredictions
        self.tokenize = tokenize
    }

    /// The stream continued from `position`, as if it had been read up to there.
    public init(dataset: Dataset, prefix: [Int32], maxPredictions: Int, tokenize: @escaping (String) -> [Int32], resumingAt position: Position) {
        self.init(dataset: dataset, prefix: Array(prefix.suffix(position.prefixRemaining)), maxPredictions: maxPredictions, tokenize: tokenize)
        document = position.document
        cursor = position.cursor
        predictions = position.predictions
        skippedDocuments = position.skippedDocuments ?? []
        if document >= 0, document < dataset.documentCount {
            do { tokens = tokenize(try dataset.text(ofDocument: document)) } catch { self.error = error }
        }
    }

    public var position: Position {
        Position(prefixRemaining: prefix.count, document: document, cursor: cursor, predictions: predictions,
                 skippedDocuments: skippedDocuments.isEmpty ? nil : skippedDocuments)
    }

    public mutating func next() -> FedToken? {
        guard predictions < maxPredictions || !prefix.isEmpty else { return nil }
        return advance()
    }

    /// The next fed token once the prediction budget is spent, unscored: it fills up the last pass so that a
    /// prediction's numbers never depend on where `--max-tokens` cut the stream.
    /// A document that cannot be read here ends the padding, not the run: every prediction has been made.
    public mutating func nextPastBudget() -> FedToken? {
        guard predictions >= maxPredictions, error == nil else { return nil }
        guard let fed = advance() else {
            error = nil
            return nil
        }
        predictions -= 1
        return FedToken(token: fed.token, target: nil)
    }

    public var budgetSpent: Bool { predictions >= maxPredictions }

    private mutating func advance() -> FedToken? {
        guard error == nil else { return nil }
        if let sink = prefix.popLast() { return FedToken(token: sink, target: nil) }
        while cursor + 1 >= tokens.count {
            document += 1
            guard document < dataset.documentCount else { return nil }
            do { tokens = tokenize(try dataset.text(ofDocument: document)) } catch {
                self.error = error
                return nil
            }
            cursor = 0
            if tokens.count < 2, predictions < maxPredictions { skippedDocuments.append(document) }
        }
        defer { cursor += 1; predictions += 1 }
        return FedToken(token: tokens[cursor],
                        target: .init(document: document, position: cursor + 1, token: tokens[cursor + 1]))
    }
}
