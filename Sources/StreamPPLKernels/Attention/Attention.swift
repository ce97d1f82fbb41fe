import CBLAS
import Dispatch

/// Keys a pass's queries attend to, stored one token per row, with the queries rotated to match them and
/// which of them each query may see. A cache hands the kernel one segment per rotary frame: `StreamingCache`
/// rotates its sinks and its window to different positions, so it passes two.
package struct AttentionSegment {
    /// ALiBi (llama.cpp's `soft_max_ext` with a mask of -|query position - key position|): head h's score of key j
    /// for row t gains -slopes[h] · |queryPositions[t] - keyPositions[j]|, in the segment's frame of positions.
    package struct PositionBias {
        /// One per query head.
        package var slopes: [Float]
        /// One per query row of the pass.
        package var queryPositions: [Int]
        /// One per key of the segment.
        package var keyPositions: [Int]

        package init(slopes: [Float], queryPositions: [Int], keyPositions: [Int]) {
            self.slopes = slopes
            self.queryPositions = queryPositions
            self.keyPositions = keyPositions
        }
    }

    /// How the scores and the weighted values are computed.
    package enum Products {
        /// One sgemm per head over every query row and every key of the segment, masked afterwards:
        /// for many query rows over many keys.
        case matrix
        /// One dot product per visible key and a running sum of the values: for one query row or few keys.
        case vector
    }

    /// (rows, queryWidth): the queries, rotated to the positions these keys were rotated against.
    package var queries: UnsafePointer<Float>
    /// (count, keyValueWidth): the keys after rotary embedding.
    package var keys: UnsafePointer<Float>
    /// (count, keyValueWidth).
    package var values: UnsafePointer<Float>
    package var count: Int
    /// One range per query row: the keys of this segment that row may see, within 0..<count.
    package var visible: [Range<Int>]
    /// (heads, rows, count), scratch: afterwards each row's attention probabilities, 0 outside `visible`.
    package var probabilities: UnsafeMutablePointer<Float>
    package var products: Products
    /// Added to the scaled scores before the softmax, when the model has ALiBi.
    package var bias: PositionBias?

    package init(queries: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, count: Int,
                 visible: [Range<Int>], probabilities: UnsafeMutablePointer<Float>, products: Products, bias: PositionBias? = nil) {
        self.queries = queries
        self.keys = keys
        self.values = values
        self.count = count
        self.visible = visible
        self.probabilities = probabilities
        self.products = products
        self.bias = bias
    }
}

/// Scaled dot-product attention with grouped-query heads, shared by every cache: scores q·k/√d (plus a segment's
/// position bias), a softmax over the keys each query may see (in all segments together), and the
/// probability-weighted sum of values.
package enum Attention {
    /// output (rows, queryWidth) ← softmax(scale · q·kᵀ + bias over the visible keys) · v, per query head and row.
    ///
    /// The softmax's normalizer adds the segments' sums in the order given; the values of `.matrix` segments
    /// are written first (sgemm), then those of `.vector` segments are added key by key. A pass of several
    /// rows splits its heads (and each head's rows in two from 32 rows on) across the cores; one row runs on
    /// the calling thread.
    package static func attend(_ segments: [AttentionSegment], rows: Int, shape: AttentionShape, output: UnsafeMutablePointer<Float>) {
        guard rows > 0 else { return }
        if rows == 1 {
            for head in 0 ..< shape.heads { attendHead(head, rows: 0 ..< 1, segments, totalRows: 1, shape: shape, output: output) }
            return
        }
        let rowBlocks = rows >= 32 ? 2 : 1
        LinearAlgebra.singleThreadedBLAS
        Parallel.perform(shape.heads * rowBlocks) { task in
            let head = task / rowBlocks, block = task % rowBlocks
            attendHead(head, rows: rows * block / rowBlocks ..< rows * (block + 1) / rowBlocks, segments, totalRows: rows,
                       shape: shape, output: output)
        }
    }

    /// One query head over the query rows `rows` of a pass of `totalRows`.
    private static func attendHead(_ head: Int, rows: Range<Int>, _ segments: [AttentionSegment], totalRows: Int, shape: AttentionShape,
                                   output: UnsafeMutablePointer<Float>) {
        let kvWidth = shape.keyValueWidth, qWidth = shape.queryWidth, headSize = shape.headSize, scale = shape.scale
        let group = head / shape.groupSize
        let first = rows.lowerBound, rowCount = Int32(rows.count)
        /// Row t's probabilities (or scores, before the softmax) in `segment`.
        func probabilities(_ segment: AttentionSegment, _ t: Int) -> UnsafeMutablePointer<Float> {
            segment.probabilities + (head * totalRows + t) * segment.count
        }

        for segment in segments where segment.count > 0 {
            switch segment.products {
            case .matrix:
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rowCount, Int32(segment.count), Int32(headSize),
                            scale, segment.queries + first * qWidth + head * headSize, Int32(qWidth),
                            segment.keys + group * headSize, Int32(kvWidth),
                            0, probabilities(segment, first), Int32(segment.count))
            case .vector:
                for t in rows {
                    let query = segment.queries + t * qWidth + head * headSize, row = probabilities(segment, t)
                    for j in segment.visible[t] {
                        row[j] = scale * LinearAlgebra.dot(query, segment.keys + j * kvWidth + group * headSize, count: headSize)
                    }
                }
            }
        }

        for segment in segments {
            guard let bias = segment.bias else { continue }
            let slope = bias.slopes[head]
            for t in rows {
                let row = probabilities(segment, t), query = bias.queryPositions[t]
                for j in segment.visible[t] { row[j] -= slope * Float(abs(query - bias.keyPositions[j])) }
            }
        }

        for t in rows {
            var maximum = -Float.infinity
            for segment in segments where !segment.visible[t].isEmpty {
                let range = segment.visible[t]
                maximum = max(maximum, VectorMath.maximum(probabilities(segment, t) + range.lowerBound, count: range.count))
            }
            var total: Float = 0
            for segment in segments where !segment.visible[t].isEmpty {
                let range = segment.visible[t]
                total += VectorMath.exponentiate(probabilities(segment, t) + range.lowerBound, count: range.count, shift: maximum)
            }
            let inverse = 1 / total
            for segment in segments where segment.count > 0 {
                let row = probabilities(segment, t), range = segment.visible[t]
                row.update(repeating: 0, count: range.lowerBound)
                for j in range { row[j] *= inverse }
                (row + range.upperBound).update(repeating: 0, count: segment.count - range.upperBound)
            }
        }

        let headOutput = output + first * qWidth + head * headSize
        var written = false
        for segment in segments where segment.products == .matrix && segment.count > 0 {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rowCount, Int32(headSize), Int32(segment.count),
                        1, probabilities(segment, first), Int32(segment.count), segment.values + group * headSize, Int32(kvWidth),
                        written ? 1 : 0, headOutput, Int32(qWidth))
            written = true
        }
        if !written {
            for t in 0 ..< rows.count { (headOutput + t * qWidth).update(repeating: 0, count: headSize) }
        }
        for segment in segments where segment.products == .vector {
            for t in rows {
                let row = probabilities(segment, t), out = output + t * qWidth + head * headSize
                for j in segment.visible[t] {
                    let value = segment.values + j * kvWidth + group * headSize, p = row[j]
                    for d in 0 ..< headSize { out[d] += p * value[d] }
                }
            }
        }
    }
}
