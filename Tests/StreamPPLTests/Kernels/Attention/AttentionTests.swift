import XCTest
@testable import StreamPPLKernels
import StreamPPL

/// The one attention kernel against attention written out from its definition, in Float64: one softmax over
/// the visible keys of every segment together, each segment scored with its own queries (and biased by its own
/// ALiBi positions).
final class AttentionTests: XCTestCase {
    private let shape = AttentionShape(layers: 1, heads: 4, keyValueHeads: 2, headSize: 16)

    private struct Segment {
        var queries: [Float], keys: [Float], values: [Float]
        var count: Int, visible: [Range<Int>], products: AttentionSegment.Products
        var bias: AttentionSegment.PositionBias? = nil
    }

    private func randomSegment(rows: Int, count: Int, products: AttentionSegment.Products, using random: inout SplitMix64,
                               visible: (Int) -> Range<Int>) -> Segment {
        func floats(_ n: Int) -> [Float] { (0 ..< n).map { _ in random.nextGaussian() } }
        return Segment(queries: floats(rows * shape.queryWidth), keys: floats(count * shape.keyValueWidth),
                       values: floats(count * shape.keyValueWidth), count: count, visible: (0 ..< rows).map(visible), products: products)
    }

    /// Output (rows, queryWidth) and each segment's probabilities (heads, rows, count) from the kernel.
    private func kernel(_ segments: [Segment], rows: Int) -> (output: [Float], probabilities: [[Float]]) {
        var buffers: [UnsafeMutableBufferPointer<Float>] = []
        defer { buffers.forEach { $0.deallocate() } }
        func buffer(_ values: [Float]) -> UnsafeMutablePointer<Float> {
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, values.count))
            buffer.initialize(repeating: .nan)
            _ = buffer.initialize(from: values)
            buffers.append(buffer)
            return buffer.baseAddress!
        }
        let probabilities = segments.map { buffer([Float](repeating: .nan, count: shape.heads * rows * $0.count)) }
        let output = buffer([Float](repeating: .nan, count: rows * shape.queryWidth))
        let kernelSegments = segments.enumerated().map { index, segment in
            AttentionSegment(queries: buffer(segment.queries), keys: buffer(segment.keys), values: buffer(segment.values), count: segment.count,
                             visible: segment.visible, probabilities: probabilities[index], products: segment.products,
                             bias: segment.bias)
        }
        Attention.attend(kernelSegments, rows: rows, shape: shape, output: output)
        return (Array(UnsafeBufferPointer(start: output, count: rows * shape.queryWidth)),
                segments.indices.map { Array(UnsafeBufferPointer(start: probabilities[$0], count: shape.heads * rows * segments[$0].count)) })
    }

    /// The same from the definition.
    private func reference(_ segments: [Segment], rows: Int) -> (output: [Double], probabilities: [[Double]]) {
        let size = shape.headSize, scale = 1 / Double(size).squareRoot()
        var output = [Double](repeating: 0, count: rows * shape.queryWidth)
        var probabilities = segments.map { [Double](repeating: 0, count: shape.heads * rows * $0.count) }
        for head in 0 ..< shape.heads {
            let group = head / shape.groupSize
            for t in 0 ..< rows {
                var scores: [(segment: Int, key: Int, score: Double)] = []
                for (index, segment) in segments.enumerated() {
                    for key in segment.visible[t] {
                        let q = t * shape.queryWidth + head * size, k = key * shape.keyValueWidth + group * size
                        let dot = (0 ..< size).reduce(0.0) { $0 + Double(segment.queries[q + $1]) * Double(segment.keys[k + $1]) }
                        let bias = segment.bias.map { bias in
                            -Double(bias.slopes[head]) * Double(abs(bias.queryPositions[t] - bias.keyPositions[key]))
                        } ?? 0
                        scores.append((index, key, dot * scale + bias))
                    }
                }
                let maximum = scores.map(\.score).max() ?? 0
                let total = scores.reduce(0.0) { $0 + exp($1.score - maximum) }
                for (index, key, score) in scores {
                    let p = exp(score - maximum) / total
                    probabilities[index][(head * rows + t) * segments[index].count + key] = p
                    for d in 0 ..< size {
                        output[t * shape.queryWidth + head * size + d] += p * Double(segments[index].values[key * shape.keyValueWidth + group * size + d])
                    }
                }
            }
        }
        return (output, probabilities)
    }

    /// The largest output error, checked against 1e-5.
    @discardableResult
    private func assertMatches(_ segments: [Segment], rows: Int, _ message: String) -> Double {
        let (output, probabilities) = kernel(segments, rows: rows)
        let (expectedOutput, expectedProbabilities) = reference(segments, rows: rows)
        let outputError = zip(output, expectedOutput).map { abs(Double($0) - $1) }.max() ?? .infinity
        XCTAssertLessThan(outputError, 1e-5, message)
        for (index, segment) in segments.enumerated() where segment.count > 0 {
            // Invisible keys must come out exactly 0, not merely small.
            for (actual, expected) in zip(probabilities[index], expectedProbabilities[index]) where expected == 0 {
                XCTAssertEqual(actual, 0, "\(message): segment \(index) outside its visible keys")
            }
            XCTAssertLessThan(zip(probabilities[index], expectedProbabilities[index]).map { abs(Double($0) - $1) }.max() ?? .infinity,
                              1e-6, "\(message): segment \(index) probabilities")
        }
        return outputError
    }

    /// Sinks scored key by key plus a masked window scored by sgemm, as `StreamingCache` passes them; one and two
    /// row blocks per head.
    func testSinksAndAMaskedWindowGiveOneSoftmaxOverBoth() {
        var random = SplitMix64(seed: 3)
        for rows in [1, 5, 40] {
            let sinks = randomSegment(rows: rows, count: 3, products: .vector, using: &random) { t in 0 ..< min(3, t + 1) }
            let window = randomSegment(rows: rows, count: rows + 6, products: .matrix, using: &random) { t in t + 1 ..< t + 7 }
            assertMatches([sinks, window], rows: rows, "\(rows) rows")
        }
    }

    /// One query over every key, key by key (`ExactCache`), and causal attention by sgemm (`AttentionRecordingCache`).
    func testASingleSegmentIsPlainAttention() {
        var random = SplitMix64(seed: 4)
        assertMatches([randomSegment(rows: 1, count: 50, products: .vector, using: &random) { _ in 0 ..< 50 }], rows: 1, "one query")
        assertMatches([randomSegment(rows: 12, count: 12, products: .matrix, using: &random) { t in 0 ..< t + 1 }], rows: 12, "causal")
    }

    /// ALiBi as `StreamingCache` passes it: the window at offsets from its oldest key, the sinks at their own
    /// positions against each query's rank, with slopes steep enough that the bias outweighs the dot products.
    func testPositionBiasIsAddedToTheScaledScores() {
        var random = SplitMix64(seed: 6)
        let slopes: [Float] = [1, 0.5, 0.25, 0.0625]
        var worst = 0.0
        for rows in [1, 5, 40] {
            var sinks = randomSegment(rows: rows, count: 3, products: .vector, using: &random) { t in 0 ..< min(3, t + 1) }
            var window = randomSegment(rows: rows, count: rows + 6, products: .matrix, using: &random) { t in t + 1 ..< t + 7 }
            // Query t is the window's key t + 6 and, after 3 sinks and 5 window keys, has rank 8.
            window.bias = AttentionSegment.PositionBias(slopes: slopes, queryPositions: (0 ..< rows).map { $0 + 6 },
                                                        keyPositions: Array(0 ..< rows + 6))
            sinks.bias = AttentionSegment.PositionBias(slopes: slopes, queryPositions: Array(repeating: 8, count: rows), keyPositions: [0, 1, 2])
            worst = max(worst, assertMatches([sinks, window], rows: rows, "\(rows) rows, biased"))
            // Key by key too, the way `ExactCache` hands over a ring whose rows are not in position order.
            var ring = randomSegment(rows: 1, count: 9, products: .vector, using: &random) { _ in 0 ..< 9 }
            ring.bias = AttentionSegment.PositionBias(slopes: slopes, queryPositions: [8], keyPositions: [0, 1, 5, 6, 7, 8, 2, 3, 4])
            worst = max(worst, assertMatches([ring], rows: 1, "ring, biased"))
        }
        // Measured 3.8e-7 at worst (2026-12-02, `swift test -c release -Xswiftc -enable-testing --filter AttentionTests`);
        // the bound is assertMatches' 1e-5, the same for every case.
        print("biased attention vs Float64 reference: max |d output| \(worst)")
    }

    /// A segment nobody sees this pass (no sinks yet) neither adds to the softmax nor to the output.
    func testAnEmptySegmentAddsNothing() {
        var random = SplitMix64(seed: 5)
        let window = randomSegment(rows: 4, count: 4, products: .matrix, using: &random) { t in 0 ..< t + 1 }
        let none = randomSegment(rows: 4, count: 0, products: .vector, using: &random) { _ in 0 ..< 0 }
        assertMatches([none, window], rows: 4, "no sinks")
    }
}
