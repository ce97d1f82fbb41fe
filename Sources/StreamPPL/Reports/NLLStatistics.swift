/// Running statistics of one config's NLLs, in Float64, with memory independent of stream length
/// except for a coarse per-block series (one entry per `blockSize` predictions) kept for plots and the
/// second-half perplexity.
public struct NLLStatistics: Sendable {
    public static let blockSize = 64

    public private(set) var count = 0
    public private(set) var sum = 0.0
    public private(set) var sumOfSquares = 0.0
    /// Sum of NLLs of each full or partial block of `blockSize` consecutive predictions.
    public private(set) var blockSums: [Double] = []

    public init() {}

    public mutating func add(_ nll: Double) {
        if count % Self.blockSize == 0 { blockSums.append(0) }
        blockSums[blockSums.count - 1] += nll
        count += 1
        sum += nll
        sumOfSquares += nll * nll
    }

    public var meanNLL: Double { count > 0 ? sum / Double(count) : .nan }
    public var perplexity: Double { exp(meanNLL) }

    /// Standard error of the mean NLL (as llama.cpp's perplexity tool reports it).
    public var standardError: Double {
        guard count > 1 else { return .nan }
        let mean = meanNLL
        let variance = max(0, sumOfSquares / Double(count) - mean * mean) * Double(count) / Double(count - 1)
        return (variance / Double(count)).squareRoot()
    }

    /// exp of the 95% interval of the mean NLL.
    public var perplexityInterval: (low: Double, high: Double) {
        (exp(meanNLL - 1.96 * standardError), exp(meanNLL + 1.96 * standardError))
    }

    /// Perplexity of the predictions from the first block boundary at or after the middle of the stream.
    public var secondHalfPerplexity: Double {
        let firstBlock = (blockSums.count + 1) / 2
        let blocks = blockSums[firstBlock...]
        guard !blocks.isEmpty else { return .nan }
        let predictions = count - firstBlock * Self.blockSize
        return exp(blocks.reduce(0, +) / Double(predictions))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
