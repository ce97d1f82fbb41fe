import Foundation

/// A weight matrix of `rows` outputs x `columns` inputs kept in its GGUF blocks (ggml ne = [columns, rows]).
///
/// The blocks are read in place (typically from the memory-mapped model file, which must outlive this
/// value) and dequantized on the fly inside the dot products of `QuantizedDot`; activations stay Float32.
public struct QuantizedMatrix: @unchecked Sendable {
    public let type: TensorType
    public let rows: Int
    public let columns: Int
    /// The first row's first block.
    public let data: UnsafeRawPointer
    /// Bytes per row: `columns / type.blockElements` blocks.
    public let rowBytes: Int

    /// Products with fewer weights (rows x columns x vectors) than this run on the calling thread only.
    /// Measured on the 2-core VM: a concurrentPerform worker joins ~20 µs (median) to ~90 µs (p90) after
    /// the call, so splitting a 20-60 µs SmolLM2 layer matrix (0.1-0.9 M weights) was slower or no faster,
    /// while the 28 M-weight output head ran 1.85x faster. 2²⁰ weights is ~100 µs of single-thread work.
    static let parallelThreshold = 1 << 20

    /// `data` holds `rows` rows of `columns / type.blockElements` blocks each. The caller has checked that
    /// (StreamPPL's `QuantizedMatrix(tensor:data:)` does): release builds drop the precondition.
    public init(type: TensorType, rows: Int, columns: Int, data: UnsafeRawPointer) {
        precondition(rows >= 0 && columns >= 0 && columns % type.blockElements == 0,
                     "\(columns) columns is not a whole number of \(type.name) blocks")
        self.type = type
        self.rows = rows
        self.columns = columns
        self.data = data
        rowBytes = columns / type.blockElements * type.blockBytes
    }

    /// y[r] = Σ_c W[r,c]·x[c] for every row, split across all cores (DispatchQueue.concurrentPerform over row ranges)
    /// when the matrix has at least `parallelThreshold` weights.
    public func multiply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        multiply(x, count: 1, into: y)
    }

    /// The same for `count` vectors stored row after row (count x columns) -> (count x rows); used for small batches.
    /// Each result is bit-identical to the single-vector multiply of that vector.
    public func multiply(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>) {
        let work = rows * columns * count
        multiply(x, count: count, into: y, chunks: work < Self.parallelThreshold || Parallel.workers == 1 ? 1 : 2 * Parallel.workers)
    }

    /// `multiply` with the rows split into `chunks` ranges (1: on the calling thread).
    func multiply(_ x: UnsafePointer<Float>, count: Int, into y: UnsafeMutablePointer<Float>, chunks: Int) {
        guard rows > 0, count > 0 else { return }
        guard columns > 0 else {
            y.initialize(repeating: 0, count: rows * count)
            return
        }
        let needsSums = needsBlockSums
        let sumStride = needsSums ? columns / 32 : 0
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, sumStride * count)) { buffer in
            let sums = buffer.baseAddress.unsafelyUnwrapped
            if needsSums {
                for v in 0 ..< count {
                    QuantizedDot.blockSums(x + v * columns, columns: columns, into: sums + v * sumStride)
                }
            }
            let chunks = min(rows, max(1, chunks))
            if chunks == 1 {
                multiplyRows(0 ..< rows, x, count: count, sums: sums, sumStride: sumStride, into: y)
            } else {
                let rows = rows
                Parallel.perform(chunks) { chunk in
                    let range = rows * chunk / chunks ..< rows * (chunk + 1) / chunks
                    multiplyRows(range, x, count: count, sums: sums, sumStride: sumStride, into: y)
                }
            }
        }
    }

    /// Several matrices that read the same input vector (q, k and v; gate and up), in one parallel split
    /// over all their rows: `outputs[i]` receives `matrices[i]` · x. Fusing them lets matrices too small to
    /// be worth a `concurrentPerform` of their own share one. Each result equals `matrices[i].multiply(x, into:)`.
    public static func multiply(_ matrices: [QuantizedMatrix], _ x: UnsafePointer<Float>, into outputs: [UnsafeMutablePointer<Float>]) {
        precondition(matrices.count == outputs.count, "one output per matrix")
        guard let columns = matrices.first?.columns else { return }
        precondition(matrices.allSatisfy { $0.columns == columns }, "the matrices must share their input width")
        let work = matrices.reduce(0) { $0 + $1.rows * $1.columns }
        guard work >= parallelThreshold, matrices.count > 1 else {
            for (matrix, y) in zip(matrices, outputs) { matrix.multiply(x, into: y) }
            return
        }
        let sumCount = columns / 32
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, sumCount)) { buffer in
            let sums = buffer.baseAddress.unsafelyUnwrapped
            if matrices.contains(where: \.needsBlockSums) { QuantizedDot.blockSums(x, columns: columns, into: sums) }
            var jobs: [(matrix: Int, rows: Range<Int>)] = []
            for (index, matrix) in matrices.enumerated() where matrix.rows > 0 {
                // Pieces in proportion to the matrix's share of the work, about 2 per core in all.
                let pieces = min(matrix.rows, max(1, (2 * Parallel.workers * matrix.rows * matrix.columns + work - 1) / work))
                for piece in 0 ..< pieces {
                    jobs.append((index, matrix.rows * piece / pieces ..< matrix.rows * (piece + 1) / pieces))
                }
            }
            Parallel.perform(jobs.count) { job in
                let (index, range) = jobs[job]
                let matrix = matrices[index]
                matrix.multiplyRows(range, x, count: 1, sums: sums, sumStride: matrix.needsBlockSums ? sumCount : 0, into: outputs[index])
            }
        }
    }

    /// Whether the kernel uses the per-32 Σx of the input (`QuantizedDot.blockSums`).
    var needsBlockSums: Bool { [.q5_1, .q4_K, .q5_K].contains(type) }

    /// Rows `range` for every vector; each row's blocks are read once from memory and then stay in L1
    /// for the remaining vectors.
    func multiplyRows(_ range: Range<Int>, _ x: UnsafePointer<Float>, count: Int, sums: UnsafePointer<Float>, sumStride: Int,
                      into y: UnsafeMutablePointer<Float>) {
        let columns = columns
        let blocks = columns / type.blockElements
        // Per-row scratch of the legacy kernels: one Float per block.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, blocks)) { buffer in
        let scratch = buffer.baseAddress.unsafelyUnwrapped
        switch type {
        case .f32: forEachRow(range, x, count, sums, sumStride, y) { row, x, _ in QuantizedDot.f32(row, x, columns: columns) }
        case .f16: forEachRow(range, x, count, sums, sumStride, y) { row, x, _ in QuantizedDot.f16(row, x, columns: columns) }
        case .bf16: forEachRow(range, x, count, sums, sumStride, y) { row, x, _ in QuantizedDot.bf16(row, x, columns: columns) }
        case .q8_0: forEachRow(range, x, count, sums, sumStride, y) { row, x, _ in QuantizedDot.q8_0(row, x, blocks: blocks, scratch: scratch) }
        case .q4_0: forEachRow(range, x, count, sums, sumStride, y) { row, x, _ in QuantizedDot.q4_0(row, x, blocks: blocks, scratch: scratch) }
        case .q4_1: forEachRow(range, x, count, sums, sumStride, y) { row, x, _ in QuantizedDot.q4_1(row, x, blocks: blocks) }
        case .q5_0: forEachRow(range, x, count, sums, sumStride, y) { row, x, _ in QuantizedDot.q5_0(row, x, blocks: blocks, scratch: scratch) }
        case .q5_1: forEachRow(range, x, count, sums, sumStride, y) { row, x, s in QuantizedDot.q5_1(row, x, sums: s, blocks: blocks, scratch: scratch) }
        case .q4_K: forEachRow(range, x, count, sums, sumStride, y) { row, x, s in QuantizedDot.q4_K(row, x, sums: s, blocks: blocks) }
        case .q5_K: forEachRow(range, x, count, sums, sumStride, y) { row, x, s in QuantizedDot.q5_K(row, x, sums: s, blocks: blocks) }
        case .q6_K: forEachRow(range, x, count, sums, sumStride, y) { row, x, _ in QuantizedDot.q6_K(row, x, blocks: blocks) }
        }
        }
    }

    /// Always inlined so that each `switch` case gets its own loop with its kernel inlined.
    @inline(__always)
    private func forEachRow(_ range: Range<Int>, _ x: UnsafePointer<Float>, _ count: Int, _ sums: UnsafePointer<Float>, _ sumStride: Int,
                            _ y: UnsafeMutablePointer<Float>,
                            _ dot: (UnsafeRawPointer, UnsafePointer<Float>, UnsafePointer<Float>) -> Float) {
        let rowBytes = rowBytes, columns = columns, rows = rows
        var row = data + range.lowerBound * rowBytes
        for r in range {
            for v in 0 ..< count {
                y[v * rows + r] = dot(row, x + v * columns, sums + v * sumStride)
            }
            row += rowBytes
        }
    }
}
