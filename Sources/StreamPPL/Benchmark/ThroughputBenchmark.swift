import Dispatch
import StreamPPLKernels

/// One timed evaluation: how many predictions per second, and how many useful GFLOP/s that is.
public struct ThroughputMeasurement: Sendable {
    public let config: String
    /// Tokens per forward pass (1 on the token-by-token path).
    public let passSize: Int
    public let predictions: Int
    public let seconds: Double
    public let flops: Double

    public var tokensPerSecond: Double { Double(predictions) / seconds }
    public var gigaflops: Double { flops / seconds / 1e9 }
}

/// Times evaluations of the start of a dataset under given configs and pass sizes.
public struct ThroughputBenchmark {
    public let evaluator: Evaluator
    public let dataset: Dataset

    public init(evaluator: Evaluator, dataset: Dataset) {
        self.evaluator = evaluator
        self.dataset = dataset
    }

    /// Times predictions `warmup ..< warmup + predictions` of the stream, so a full cache can be measured
    /// in its steady state.
    public func measure(_ config: CacheConfig, predictions: Int, warmup: Int = 0, passSize: Int, exact: Bool = false,
                        profile: ForwardProfile? = nil) throws -> ThroughputMeasurement {
        var scored = 0
        var start = DispatchTime.now().uptimeNanoseconds
        let options = EvaluationOptions(maxPredictions: warmup + predictions, chunkSize: passSize, exactTokenByToken: exact, profile: profile)
        try evaluator.evaluate(config, dataset: dataset, options: options) { _ in
            scored += 1
            if scored == warmup {
                start = DispatchTime.now().uptimeNanoseconds
                profile?.reset()
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let count = FLOPCount(config: evaluator.model.config)
        let flops = count.stream(predictions: scored, policy: config.policy) - count.stream(predictions: min(warmup, scored), policy: config.policy)
        return ThroughputMeasurement(config: config.text, passSize: exact ? 1 : passSize, predictions: scored - min(warmup, scored),
                                     seconds: seconds, flops: flops)
    }

    /// `slots` evaluations of `config` side by side (`SideBySide`, the cores shared out among them), each timed as `measure`
    /// times one (they start together, so their timed stretches overlap): all their predictions over the longest.
    public func measureSideBySide(_ config: CacheConfig, slots: Int, predictions: Int, warmup: Int = 0, passSize: Int,
                                  exact: Bool = false) throws -> ThroughputMeasurement {
        let each = try SideBySide.run(Array(0 ..< slots), slots: slots) { _, _ in
            try measure(config, predictions: predictions, warmup: warmup, passSize: passSize, exact: exact)
        }
        return ThroughputMeasurement(config: config.text, passSize: exact ? 1 : passSize, predictions: each.reduce(0) { $0 + $1.predictions },
                                     seconds: each.map(\.seconds).max() ?? 0, flops: each.reduce(0) { $0 + $1.flops })
    }

    /// METHOD.md §2 `recompute:L` at its steady state: one pass from scratch over `length` tokens per prediction
    /// (logits for the last row only), timed over `repetitions` passes.
    public func measureRecompute(length: Int, repetitions: Int, profile: ForwardProfile? = nil) throws -> ThroughputMeasurement {
        let model = evaluator.model
        var stream = TokenStream(dataset: dataset, maxPredictions: length, tokenize: evaluator.tokenizer.encodeDocument)
        var tokens: [Int32] = []
        while let fed = stream.next() { tokens.append(fed.token) }
        if let error = stream.error { throw error }
        let state = ForwardState(config: model.config, capacity: tokens.count, scoredCapacity: 1)
        state.profile = profile
        let cache = StreamingCache(shape: AttentionShape(config: model.config), rotary: RotaryEmbedding(config: model.config),
                                   sinks: 0, window: nil, local: LocalAttention(config: model.config), alibi: ALiBi(config: model.config))
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0 ..< repetitions {
            cache.reset()
            tokens.withUnsafeBufferPointer { model.forward($0, cache: cache, state: state, logitRows: tokens.count - 1 ..< tokens.count) }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let count = FLOPCount(config: model.config)
        let perPass = (0 ..< tokens.count).reduce(count.perScoredToken) { $0 + count.perFedToken + count.attention(keys: $1 + 1) }
        return ThroughputMeasurement(config: "recompute:\(length)", passSize: tokens.count, predictions: repetitions, seconds: seconds,
                                     flops: perPass * Double(repetitions))
    }
}
