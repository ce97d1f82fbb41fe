import Dispatch
import Foundation
import StreamPPLKernels

/// One scored prediction: the NLL of `target.token` given everything the cache let the model see.
public struct Prediction: Sendable, Equatable {
    public let document: Int
    public let position: Int
    public let token: Int32
    public let nll: Double
}

public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    case sinkTextNotOneToken(config: String, tokens: [Int32])
    case stateDoesNotFit(config: String)
    /// The KV cache and pass buffers would need `bytes` (nil: more than an Int counts), over `physicalBytes`.
    case exceedsMemory(config: String, chunkSize: Int, bytes: Int?, physicalBytes: Int)
    case nonFiniteNLL(model: String, prediction: Prediction, number: Int)
    /// A whole stream without one document of two tokens.
    case noPredictions(data: String)

    public var description: String {
        switch self {
        case let .sinkTextNotOneToken(config, tokens):
            "invalid cache config '\(config)': the sink string must encode to exactly one token, it encodes to \(tokens.count) (\(tokens.map(String.init).joined(separator: " ")))"
        case let .stateDoesNotFit(config):
            "the saved state does not fit cache config '\(config)' on this model"
        case let .exceedsMemory(config, chunkSize, bytes, physicalBytes):
            "cache config '\(config)' with passes of \(chunkSize) tokens needs "
                + (bytes.map { "at least \(Self.gigabytes($0)) GB for its KV cache and pass buffers, more than" }
                    ?? "more bytes for its KV cache and pass buffers than a 64-bit count holds, let alone")
                + " this machine's \(Self.gigabytes(physicalBytes)) GB of memory"
        case let .nonFiniteNLL(model, prediction, number):
            "\(model): prediction \(number) (document \(prediction.document), position \(prediction.position)) has NLL \(prediction.nll): "
                + "the model's numbers are not finite, no perplexity can be reported"
        case let .noPredictions(data):
            "\(data): no document has the two tokens a prediction needs, nothing to score"
        }
    }
}

extension EvaluationError {
    fileprivate static func gigabytes(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / Double(1 << 30)) }
}

/// Where an evaluation stands between two forward passes: enough to continue it exactly (`run --resume`).
public struct EvaluationState: Sendable, Equatable {
    public var stream: TokenStream.Position
    /// The cache of the dense and sinks + window policies.
    public var cache: KVCacheSnapshot?
    /// The last fed tokens, for the re-computation policies.
    public var recomputeHistory: [Int32]?

    public init(stream: TokenStream.Position, cache: KVCacheSnapshot?, recomputeHistory: [Int32]?) {
        self.stream = stream
        self.cache = cache
        self.recomputeHistory = recomputeHistory
    }
}

public struct EvaluationOptions: Sendable {
    public var maxPredictions: Int
    /// Tokens per forward pass on the chunked path.
    public var chunkSize: Int
    /// Feed one token per forward pass through `ExactCache`, the definition of METHOD.md §2.
    public var exactTokenByToken: Bool
    public var positions: PositionMode
    /// Collects time per operation when set (`bench`).
    public var profile: ForwardProfile?

    public init(maxPredictions: Int = .max, chunkSize: Int = 256, exactTokenByToken: Bool = false, positions: PositionMode = .cache,
                profile: ForwardProfile? = nil) {
        self.maxPredictions = maxPredictions
        self.chunkSize = chunkSize
        self.exactTokenByToken = exactTokenByToken
        self.positions = positions
        self.profile = profile
    }
}

/// Streams a dataset through a model under one cache configuration and reports every prediction.
public final class Evaluator {
    public let model: any LanguageModel
    public let tokenizer: Tokenizer

    public init(model: any LanguageModel, tokenizer: Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// The bytes the KV cache, attention scores, activations and logits of `config` take with these options
    /// (nil: more than an Int counts). Every product is checked: release builds use -Ounchecked, where an overflow
    /// would wrap silently. A dense cache grows with the stream; only its first pass is counted.
    public func requiredBytes(for config: CacheConfig, options: EvaluationOptions) -> Int? {
        let model = model.config
        var overflow = false
        func sum(_ terms: Int...) -> Int {
            terms.reduce(0) { let (value, over) = $0.addingReportingOverflow($1); overflow = overflow || over; return value }
        }
        func product(_ factors: Int...) -> Int {
            factors.reduce(1) { let (value, over) = $0.multipliedReportingOverflow(by: $1); overflow = overflow || over; return value }
        }
        let pass = Self.passTokens(config, options)
        let scored: Int, sinks: Int, rows: Int   // rows: the most window (or recompute) keys one pass sees
        switch config.policy {
        case .dense: (scored, sinks, rows) = (pass, 0, pass)
        case let .sinkWindow(sinkCount, window, _):
            // A pass of several tokens goes through `StreamingCache`, whose window keeps some slack; one token through
            // `ExactCache`'s ring of window + 1.
            let needed = sum(window, pass)
            (scored, sinks, rows) = (pass, sinkCount, pass > 1 ? StreamingCache.windowRoom(neededRows: needed, passTokens: pass) : needed)
        case let .recompute(length, stride): (scored, sinks, rows) = (min(stride, pass), 0, length)
        case .heavyHitters, .tova: (scored, sinks, rows) = (pass, 0, sum(config.policy.keptTokens ?? 0, pass))
        }
        let activations = ForwardState.activationWidth(model)
        let floats = sum(product(model.layerCount, 2, sum(sinks, rows), model.keyValueSize),   // keys and values
                         product(model.headCount, pass, sum(sinks, rows)),                     // one pass's attention scores
                         product(pass, activations), product(scored, model.vocabularySize))
        let bytes = product(floats, MemoryLayout<Float>.size)
        return overflow ? nil : bytes
    }

    /// Throws when `config` cannot fit in this machine's physical memory, before anything is allocated: a size typed
    /// with a digit too many is a one-line error, not an allocation failure.
    public func checkMemory(for config: CacheConfig, options: EvaluationOptions) throws(EvaluationError) {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        let bytes = requiredBytes(for: config, options: options)
        guard let bytes, bytes <= physical else {
            throw .exceedsMemory(config: config.text, chunkSize: Self.passTokens(config, options), bytes: bytes, physicalBytes: physical)
        }
    }

    /// Tokens per forward pass: one on the exact path and for the policies that evict by attention, a whole window when
    /// re-computing, else a chunk.
    private static func passTokens(_ config: CacheConfig, _ options: EvaluationOptions) -> Int {
        if options.exactTokenByToken || config.policy.evictsByAttention { return 1 }
        if case let .recompute(length, _) = config.policy { return length }
        return options.chunkSize
    }

    /// Runs the whole stream (or until `shouldStop` says so between passes), from its start or from a state
    /// `checkpoint` was offered. Returns whether it was stopped early.
    ///
    /// `checkpoint` is called after every whole pass (and not after the short last one), before `shouldStop`;
    /// the state it is handed is only built when called. Resuming from it continues with the same passes, so
    /// the numbers equal those of a run that never stopped. `skipped` is handed, at the end, the documents passed
    /// over along the whole stream (resumed part included) for having fewer than two tokens; `ended` the cache as the
    /// stream or the budget left it (not after a stop, and not for re-computation, which keeps no cache).
    @discardableResult
    public func evaluate(_ config: CacheConfig, dataset: Dataset, options: EvaluationOptions,
                         resumingFrom resumed: consuming EvaluationState? = nil,
                         shouldStop: () -> Bool = { false },
                         checkpoint: (() -> EvaluationState) throws -> Void = { _ in },
                         skipped: ([Int]) -> Void = { _ in },
                         ended: (ResumableCache) -> Void = { _ in },
                         record: (Prediction) throws -> Void) throws -> Bool {
        try checkMemory(for: config, options: options)
        let shape = AttentionShape(config: model.config)
        let rotary = RotaryEmbedding(config: model.config)
        let local = LocalAttention(config: model.config), alibi = ALiBi(config: model.config)
        var prefix: [Int32] = []
        if case let .sinkWindow(sinks, _, sinkText?) = config.policy {
            let ids = tokenizer.encode(sinkText)
            guard ids.count == 1 else { throw EvaluationError.sinkTextNotOneToken(config: config.text, tokens: ids) }
            prefix = Array(repeating: ids[0], count: sinks)
        }
        let resumedHistory = resumed?.recomputeHistory ?? []
        var stream = if let position = resumed?.stream {
            TokenStream(dataset: dataset, prefix: prefix, maxPredictions: options.maxPredictions, tokenize: tokenizer.encodeDocument,
                        resumingAt: position)
        } else {
            TokenStream(dataset: dataset, prefix: prefix, maxPredictions: options.maxPredictions, tokenize: tokenizer.encodeDocument)
        }
        let stopped: Bool
        switch config.policy {
        case .dense, .sinkWindow, .heavyHitters, .tova:
            let cache = Self.cache(for: config, options: options, shape: shape, rotary: rotary, local: local, alibi: alibi)
            // Consumed, so that the checkpoint's layers are freed once copied: held for the whole run, they kept a
            // resumed job ~47 MB of heap above one that never stopped (SmolLM2 at 4+1020).
            if let resumed = consume resumed {
                guard let snapshot = resumed.cache, cache.restore(snapshot) else { throw EvaluationError.stateDoesNotFit(config: config.text) }
            }
            let state = ForwardState(config: model.config, capacity: Self.passTokens(config, options))
            state.profile = options.profile
            stopped = try streamThrough(cache: cache, stream: &stream, state: state, shouldStop: shouldStop, checkpoint: checkpoint,
                                        record: record)
            if !stopped { ended(cache) }
        case let .recompute(length, stride):
            let history = resumedHistory
            guard history.count <= length else { throw EvaluationError.stateDoesNotFit(config: config.text) }
            let state = ForwardState(config: model.config, capacity: options.exactTokenByToken ? 1 : length, scoredCapacity: stride)
            state.profile = options.profile
            stopped = try recompute(length: length, stride: stride, history: history, stream: &stream, exact: options.exactTokenByToken,
                                    shape: shape, rotary: rotary, local: local, alibi: alibi, state: state, shouldStop: shouldStop,
                                    checkpoint: checkpoint, record: record)
        }
        if let error = stream.error { throw error }
        skipped(stream.skippedDocuments)
        return stopped
    }

    /// The cache of a policy that keeps keys from pass to pass: the token-by-token definition, or the chunked path.
    private static func cache(for config: CacheConfig, options: EvaluationOptions, shape: AttentionShape, rotary: RotaryEmbedding,
                              local: LocalAttention?, alibi: ALiBi?) -> ResumableCache {
        let (sinks, window): (Int, Int?)
        switch config.policy {
        case let .heavyHitters(heavy, recent):
            let rule = HeavyHitterEviction(heavy: heavy, recent: recent, shape: shape)
            return ScoredEvictionCache(shape: shape, rotary: rotary, rule: rule, positions: options.positions, local: local, alibi: alibi)
        case let .tova(capacity):
            let rule = TOVAEviction(capacity: capacity, shape: shape)
            return ScoredEvictionCache(shape: shape, rotary: rotary, rule: rule, positions: options.positions, local: local, alibi: alibi)
        case let .sinkWindow(sinkCount, windowSize, _): (sinks, window) = (sinkCount, windowSize)
        case .dense, .recompute: (sinks, window) = (0, nil)
        }
        return options.exactTokenByToken
            ? ExactCache(shape: shape, rotary: rotary, sinks: sinks, window: window, positions: options.positions, local: local, alibi: alibi)
            : StreamingCache(shape: shape, rotary: rotary, sinks: sinks, window: window, positions: options.positions, local: local, alibi: alibi)
    }

    private func streamThrough(cache: ResumableCache, stream: inout TokenStream, state: ForwardState, shouldStop: () -> Bool,
                               checkpoint: (() -> EvaluationState) throws -> Void, record: (Prediction) throws -> Void) throws -> Bool {
        let passSize = state.capacity
        var pass: [FedToken] = []
        pass.reserveCapacity(passSize)
        while true {
            pass.removeAll(keepingCapacity: true)
            while pass.count < passSize, let fed = stream.next() { pass.append(fed) }
            guard !pass.isEmpty else { return false }
            let padded = fillPastBudget(&pass, upTo: passSize, stream: &stream)
            let tokens = pass.map(\.token)
            let firstScored = pass.firstIndex { $0.target != nil } ?? pass.count
            tokens.withUnsafeBufferPointer { model.forward($0, cache: cache, state: state, logitRows: firstScored ..< pass.count) }
            try score(pass, logitRow: { $0 - firstScored }, state: state, record: record)
            // A short or padded pass is the last: the stream has ended, whatever shouldStop says now.
            guard pass.count == passSize, !padded else { return false }
            let position = stream.position
            try checkpoint { EvaluationState(stream: position, cache: cache.snapshot(), recomputeHistory: nil) }
            if shouldStop() { return true }
        }
    }

    /// METHOD.md §2 `recompute:L/S`: every `stride` fed tokens, a dense pass from scratch over the last `length`
    /// fed tokens (positions from 0) scores the last `stride` predictions.
    private func recompute(length: Int, stride: Int, history: [Int32], stream: inout TokenStream, exact: Bool, shape: AttentionShape,
                           rotary: RotaryEmbedding, local: LocalAttention?, alibi: ALiBi?, state: ForwardState, shouldStop: () -> Bool,
                           checkpoint: (() -> EvaluationState) throws -> Void, record: (Prediction) throws -> Void) throws -> Bool {
        let batched = StreamingCache(shape: shape, rotary: rotary, sinks: 0, window: nil, local: local, alibi: alibi)
        var history = history   // the last `length` fed tokens
        var pending: [FedToken] = []
        while true {
            pending.removeAll(keepingCapacity: true)
            while pending.count < stride, let fed = stream.next() { pending.append(fed) }
            guard !pending.isEmpty else { return false }
            let padded = fillPastBudget(&pending, upTo: stride, stream: &stream)
            history += pending.map(\.token)
            if history.count > length { history.removeFirst(history.count - length) }
            let firstScored = history.count - pending.count
            if exact {
                let cache = ExactCache(shape: shape, rotary: rotary, sinks: 0, window: nil, local: local, alibi: alibi)
                for (row, token) in history.enumerated() {
                    let scored = row >= firstScored
                    [token].withUnsafeBufferPointer { model.forward($0, cache: cache, state: state, logitRows: scored ? 0 ..< 1 : 0 ..< 0) }
                    if scored { try score([pending[row - firstScored]], logitRow: { _ in 0 }, state: state, record: record) }
                }
            } else {
                batched.reset()
                history.withUnsafeBufferPointer { model.forward($0, cache: batched, state: state, logitRows: firstScored ..< history.count) }
                try score(pending, logitRow: { $0 }, state: state, record: record)
            }
            guard pending.count == stride, !padded else { return false }
            let position = stream.position
            try checkpoint { [history] in EvaluationState(stream: position, cache: nil, recomputeHistory: history) }
            if shouldStop() { return true }
        }
    }

    /// Completes the last pass with unscored tokens past the prediction budget, so that it is the same pass
    /// a longer run makes and the scored predictions equal that run's first ones. Returns whether it did.
    private func fillPastBudget(_ pass: inout [FedToken], upTo size: Int, stream: inout TokenStream) -> Bool {
        guard pass.count < size, stream.budgetSpent else { return false }
        while pass.count < size, let fed = stream.nextPastBudget() { pass.append(fed) }
        return true
    }

    private func score(_ fed: [FedToken], logitRow: (Int) -> Int, state: ForwardState, record: (Prediction) throws -> Void) throws {
        let vocabularySize = model.config.vocabularySize
        var nlls = [Double](repeating: 0, count: fed.count)
        let start = DispatchTime.now().uptimeNanoseconds
        // Rows are independent: normalize them on all cores.
        nlls.withUnsafeMutableBufferPointer { nlls in
            Parallel.perform(fed.count) { index in
                guard let target = fed[index].target else { return }
                nlls[index] = LinearAlgebra.negativeLogLikelihood(logits: state.logits.row(logitRow(index)), count: vocabularySize,
                                                                  target: Int(target.token))
            }
        }
        state.profile?.add(.scoring, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        for (index, item) in fed.enumerated() {
            guard let target = item.target else { continue }
            try record(Prediction(document: target.document, position: target.position, token: target.token, nll: nlls[index]))
        }
    }
}
