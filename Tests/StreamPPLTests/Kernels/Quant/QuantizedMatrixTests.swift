import Foundation
import XCTest
@testable import StreamPPL
@testable import StreamPPLKernels

/// Checks `QuantizedMatrix.multiply` against `dequantize` followed by a Float64 dot product.
final class QuantizedMatrixTests: XCTestCase {
    func testEveryTypeMatchesDequantizedReference() {
        var generator = SplitMix64(seed: 0x5eed)
        for type in TensorType.allCases {
            // 608 columns are 19 legacy blocks: two groups of eight and a tail of three. The 131-row
            // matrices are also split into row ranges on several threads.
            var shapes = [(7, type.blockElements == 256 ? 768 : 608), (131, 512)]
            if type.blockElements == 1 { shapes.append((5, 517)) }   // a column count that leaves a scalar tail
            for (rows, columns) in shapes {
                let raw = randomBlocks(type, rows: rows, columns: columns, using: &generator)
                let x = (0 ..< columns).map { _ in Float.random(in: -2 ... 2, using: &generator) }
                // One byte past alignment: GGUF blocks sit at any byte offset.
                withMisalignedCopy(raw) { data in
                    let matrix = QuantizedMatrix(type: type, rows: rows, columns: columns, data: data)
                    let y = multiply(matrix, x, count: 1)
                    assertMatchesReference(matrix, x, y, "\(type.name) \(rows)x\(columns)")
                    if rows > 100 {
                        XCTAssertEqual(multiply(matrix, x, count: 1, chunks: 5), y, "\(type.name) split over threads")
                    }
                }
            }
        }
    }

    func testBatchEqualsSingleMultiplies() {
        var generator = SplitMix64(seed: 42)
        for type in TensorType.allCases {
            for rows in [7, 131] {
                let columns = 512, count = 3
                let raw = randomBlocks(type, rows: rows, columns: columns, using: &generator)
                let x = (0 ..< columns * count).map { _ in Float.random(in: -2 ... 2, using: &generator) }
                withMisalignedCopy(raw) { data in
                    let matrix = QuantizedMatrix(type: type, rows: rows, columns: columns, data: data)
                    let batched = multiply(matrix, x, count: count)
                    XCTAssertEqual(multiply(matrix, x, count: count, chunks: 4), batched, "\(type.name) batch split over threads")
                    for v in 0 ..< count {
                        let single = multiply(matrix, Array(x[v * columns ..< (v + 1) * columns]), count: 1)
                        XCTAssertEqual(Array(batched[v * rows ..< (v + 1) * rows]), single, "\(type.name) \(rows) rows, vector \(v)")
                    }
                }
            }
        }
    }

    func testVectorHalfConversionIsExactForEveryBitPattern() {
        for high in 0 ..< 8192 {
            let bits = SIMD8<UInt16>((0 ..< 8).map { UInt16(high * 8 + $0) })
            let floats = QuantizedDot.halvesToFloats(bits)
            for lane in 0 ..< 8 {
                let expected = floatFromHalfBits(bits[lane])
                XCTAssertEqual(floats[lane].bitPattern, expected.bitPattern, "0x\(String(bits[lane], radix: 16))")
            }
        }
    }

    func testGroupedMultiplyEqualsSeparateMultiplies() throws {
        var generator = SplitMix64(seed: 9)
        let columns = 512
        // Mixed types and sizes sharing one input, large enough together for the parallel split.
        let shapes: [(TensorType, Int)] = [(.q4_1, 1100), (.q8_0, 300), (.q4_K, 700), (.f16, 5)]
        let raws = shapes.map { randomBlocks($0.0, rows: $0.1, columns: columns, using: &generator) }
        let x = (0 ..< columns).map { _ in Float.random(in: -2 ... 2, using: &generator) }
        XCTAssertGreaterThanOrEqual(shapes.reduce(0) { $0 + $1.1 } * columns, QuantizedMatrix.parallelThreshold)
        let buffers = raws.map { raw -> UnsafeMutableRawPointer in
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: raw.count, alignment: 64)
            raw.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: raw.count) }
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        let matrices = zip(shapes, buffers).map { QuantizedMatrix(type: $0.0, rows: $0.1, columns: columns, data: $1) }
        let outputs = matrices.map { UnsafeMutablePointer<Float>.allocate(capacity: $0.rows) }
        defer { outputs.forEach { $0.deallocate() } }
        x.withUnsafeBufferPointer { QuantizedMatrix.multiply(matrices, $0.baseAddress!, into: outputs) }
        for (matrix, output) in zip(matrices, outputs) {
            XCTAssertEqual(Array(UnsafeBufferPointer(start: output, count: matrix.rows)), multiply(matrix, x, count: 1), matrix.type.name)
        }
    }

    func testInitializerReadsTensorShape() {
        let tensor = GGUFTensorInfo(name: "w", dimensions: [256, 3], type: .q4_K, offset: 0, byteCount: 3 * 144)
        let bytes = [UInt8](repeating: 0, count: 3 * 144)
        bytes.withUnsafeBytes { buffer in
            let matrix = QuantizedMatrix(tensor: tensor, data: buffer.baseAddress!)
            XCTAssertEqual(matrix.rows, 3)
            XCTAssertEqual(matrix.columns, 256)
            XCTAssertEqual(matrix.rowBytes, 144)
            let vector = QuantizedMatrix(tensor: GGUFTensorInfo(name: "v", dimensions: [256], type: .q4_K, offset: 0, byteCount: 144),
                                         data: buffer.baseAddress!)
            XCTAssertEqual(vector.rows, 1)
        }
    }

    func testRealModelTensors() throws {
        let file = try GGUFFile(path: TestPaths.requireModel(TestPaths.smolLM2, fetch: "smollm2"))
        var generator = SplitMix64(seed: 7)
        for (name, type) in [("blk.0.attn_q.weight", TensorType.q4_1), ("token_embd.weight", .q8_0)] {
            let tensor = try XCTUnwrap(file.tensor(named: name))
            XCTAssertEqual(tensor.type, type, name)
            let matrix = QuantizedMatrix(tensor: tensor, data: file.data(of: tensor))
            let x = (0 ..< matrix.columns).map { _ in Float.random(in: -2 ... 2, using: &generator) }
            let y = multiply(matrix, x, count: 1)
            assertMatchesReference(matrix, x, y, name)
        }
    }

    // MARK: Helpers

    /// `chunks` nil: the public entry point; otherwise the rows are split into that many ranges.
    private func multiply(_ matrix: QuantizedMatrix, _ x: [Float], count: Int, chunks: Int? = nil) -> [Float] {
        var y = [Float](repeating: .nan, count: matrix.rows * count)
        x.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer {
                if let chunks {
                    matrix.multiply(xs.baseAddress!, count: count, into: $0.baseAddress!, chunks: chunks)
                } else {
                    matrix.multiply(xs.baseAddress!, count: count, into: $0.baseAddress!)
                }
            }
        }
        return y
    }

    private func assertMatchesReference(_ matrix: QuantizedMatrix, _ x: [Float], _ y: [Float], _ label: String,
                                        file: StaticString = #filePath, line: UInt = #line) {
        var row = [Float](repeating: 0, count: matrix.columns)
        var failures = 0
        var worstRatio = 0.0
        defer { print("\(label): max error / (magnitude + 1) \(worstRatio)") }
        for r in 0 ..< matrix.rows {
            row.withUnsafeMutableBufferPointer {
                dequantize(matrix.type, from: matrix.data + r * matrix.rowBytes, into: $0.baseAddress!, count: matrix.columns)
            }
            var reference = 0.0, magnitude = 0.0
            for c in 0 ..< matrix.columns {
                let product = Double(row[c]) * Double(x[c])
                reference += product
                magnitude += abs(product)
            }
            let error = abs(Double(y[r]) - reference)
            worstRatio = max(worstRatio, error / (magnitude + 1))
            // Measured 3.4e-8 at worst over every type and shape (2026-12-02, `swift test -c release -Xswiftc -enable-testing --filter QuantizedMatrixTests`); bound 5x.
            if !(error <= 2e-7 * (magnitude + 1)) {
                failures += 1
                if failures <= 5 {
                    XCTFail("\(label) row \(r): \(y[r]) vs \(reference) (error \(error), magnitude \(magnitude))", file: file, line: line)
                }
            }
        }
    }

    /// Random blocks with every f16 scale replaced by a finite value in [-0.1, 0.1].
    private func randomBlocks(_ type: TensorType, rows: Int, columns: Int, using generator: inout SplitMix64) -> [UInt8] {
        let count = rows * columns
        switch type {
        case .f32:
            return (0 ..< count).map { _ in Float.random(in: -1 ... 1, using: &generator) }.withUnsafeBytes { Array($0) }
        case .f16:
            return (0 ..< count).map { _ in Float16(Float.random(in: -1 ... 1, using: &generator)).bitPattern }.withUnsafeBytes { Array($0) }
        case .bf16:
            return (0 ..< count).map { _ in UInt16(Float.random(in: -1 ... 1, using: &generator).bitPattern >> 16) }.withUnsafeBytes { Array($0) }
        default:
            break
        }
        let blockCount = count / type.blockElements
        var bytes = (0 ..< blockCount * type.blockBytes).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
        let scaleOffsets: [Int] = switch type {
        case .q4_0, .q5_0, .q8_0: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        default: []
        }
        for block in 0 ..< blockCount {
            for offset in scaleOffsets {
                let bits = Float16(Float.random(in: -0.1 ... 0.1, using: &generator)).bitPattern
                bytes[block * type.blockBytes + offset] = UInt8(bits & 0xff)
                bytes[block * type.blockBytes + offset + 1] = UInt8(bits >> 8)
            }
        }
        return bytes
    }

    private func withMisalignedCopy(_ bytes: [UInt8], _ body: (UnsafeRawPointer) -> Void) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes.count + 1, alignment: 64)
        defer { buffer.deallocate() }
        bytes.withUnsafeBytes { (buffer + 1).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        body(UnsafeRawPointer(buffer + 1))
    }
}
