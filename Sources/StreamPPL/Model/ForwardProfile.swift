import Dispatch

/// Where a forward pass spends its time, by operation; filled only when a state carries one (`bench`).
public final class ForwardProfile: @unchecked Sendable {
    public enum Operation: String, CaseIterable, Sendable {
        case embedding = "embedding lookup"
        case normalization = "norms (RMSNorm, LayerNorm)"
        case projections = "Q/K/V projections"
        case attention = "attention (cache, rotary, scores, softmax, values)"
        case outputProjection = "attention output projection"
        case feedForward = "feed-forward (gate, up, activation, down)"
        case logits = "output head (logits)"
        case scoring = "NLL from logits"
    }

    public private(set) var seconds: [Operation: Double] = [:]

    public init() {}

    @inline(__always)
    func measure<T>(_ operation: Operation, _ work: () -> T) -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = work()
        add(operation, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        return result
    }

    func add(_ operation: Operation, seconds elapsed: Double) {
        seconds[operation, default: 0] += elapsed
    }

    func reset() { seconds = [:] }

    public var total: Double { seconds.values.reduce(0, +) }
}
