import Foundation
import XCTest
@testable import StreamPPL
@testable import StreamPPLKernels

/// Checks `dequantize` against the `gguf` Python package's numpy dequantizer (fixtures written by
/// Fixtures/quant/make_quant_fixtures.py) and against blocks built by hand from ggml's layouts.
final class DequantizeTests: XCTestCase {
    // MARK: Fixtures from the independent numpy implementation

    func testMatchesNumpyReferenceForEveryType() throws {
        for type in TensorType.allCases {
            let raw = try fixture("\(type.name).bin")
            let expected = try fixture("\(type.name).f32").withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            XCTAssertEqual(raw.count / type.blockBytes * type.blockElements, expected.count, "\(type.name) fixture sizes")
            XCTAssertEqual(raw.count % type.blockBytes, 0, "\(type.name).bin is not whole blocks")
            // Decode once from an aligned copy and once from one byte past alignment: GGUF blocks of
            // 18, 22 or 34 bytes leave most f16 fields misaligned.
            for misalignment in [0, 1] {
                let actual = decode(type, raw, misalignedBy: misalignment, count: expected.count)
                assertBitIdentical(actual, expected, "\(type.name) (misaligned by \(misalignment))")
            }
        }
    }

    func testFloat32PassesThroughUnchanged() {
        let values: [Float] = [0, -0.0, 1, -2.5, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
                               Float(bitPattern: 0x7fc0_1234), Float(bitPattern: 0x7f80_0001)]
        let raw = values.withUnsafeBytes { Array($0) }
        assertBitIdentical(decode(.f32, raw, misalignedBy: 0, count: values.count), values, "F32")
    }

    // MARK: Half floats

    func testHalfConversionIsExactForEveryBitPattern() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = floatFromHalfBits(bits)
            if expected.isNaN {
                XCTAssertTrue(actual.isNaN, "0x\(String(bits, radix: 16)) should be NaN")
                // The payload lands in the top of the Float mantissa, as numpy's conversion does.
                XCTAssertEqual(actual.bitPattern & 0x007f_e000, UInt32(bits & 0x03ff) << 13)
            } else {
                XCTAssertEqual(actual.bitPattern, expected.bitPattern, "0x\(String(bits, radix: 16))")
            }
        }
    }

    func testHalfAndBFloat16KnownValues() {
        // binary16: sign | 5-bit exponent (bias 15) | 10-bit mantissa.
        let halves: [UInt16] = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00]
        let halfValues: [Float] = [1, -2, 65504, 0x1p-24, -0.0, .infinity]
        // bfloat16: the top 16 bits of a Float32.
        let bfloats: [UInt16] = [0x3f80, 0xc040, 0x0001, 0xff80]
        let bfloatValues: [Float] = [1, -3, Float(bitPattern: 0x0001_0000), -.infinity]
        assertBitIdentical(decode(.f16, littleEndianBytes(halves), misalignedBy: 1, count: 6), halfValues, "F16")
        assertBitIdentical(decode(.bf16, littleEndianBytes(bfloats), misalignedBy: 1, count: 4), bfloatValues, "BF16")
    }

    // MARK: Legacy 32-element blocks

    func testQ8_0HandBuiltBlock() {
        // f16 d = 0.5, then 32 Int8: -128, -120, …, 120.
        let codes = (0..<32).map { Int8($0 * 8 - 128) }
        let block = littleEndianBytes([0x3800]) + codes.map { UInt8(bitPattern: $0) }
        let expected = codes.map { 0.5 * Float($0) }
        assertBitIdentical(decode(.q8_0, block, misalignedBy: 0, count: 32), expected, "Q8_0")
    }

    func testQ4_1HandBuiltBlock() {
        // f16 d = 2, f16 m = -1; element j < 16 is the low nibble of qs[j], element j + 16 its high nibble.
        let codes = (0..<32).map { UInt8(($0 * 7) % 16) }
        let qs = (0..<16).map { codes[$0] | codes[$0 + 16] << 4 }
        let block = littleEndianBytes([0x4000, 0xbc00]) + qs
        let expected = codes.map { 2 * Float($0) - 1 }
        assertBitIdentical(decode(.q4_1, block, misalignedBy: 0, count: 32), expected, "Q4_1")
    }

    func testQ5_0HandBuiltBlock() {
        // f16 d = 0.25, UInt32 qh (bit j = bit 4 of element j), qs as in Q4_0; codes are re-centred by 16.
        let codes = (0..<32).map { UInt32(($0 * 13 + 5) % 32) }
        let qh = codes.enumerated().reduce(UInt32(0)) { $0 | (($1.element >> 4) << UInt32($1.offset)) }
        let qs = (0..<16).map { UInt8(codes[$0] & 0x0f) | UInt8(codes[$0 + 16] & 0x0f) << 4 }
        let qhBytes = (0..<4).map { UInt8(truncatingIfNeeded: qh >> (8 * $0)) }
        let block = littleEndianBytes([0x3400]) + qhBytes + qs
        let expected = codes.map { 0.25 * Float(Int32($0) - 16) }
        assertBitIdentical(decode(.q5_0, block, misalignedBy: 0, count: 32), expected, "Q5_0")
    }

    // MARK: K-quant 256-element super-blocks

    func testQ4_KHandBuiltBlock() {
        // Sub-block s (32 elements) has a 6-bit scale and min. Scales/mins 0–3 sit in the low 6 bits of
        // bytes 0–3 / 4–7; those of 4–7 put their low nibbles in bytes 8–11 (scale low, min high) and
        // their top 2 bits in the top bits of bytes 0–3 (scales) and 4–7 (mins).
        let subScales: [UInt8] = [1, 2, 3, 4, 60, 61, 62, 63]
        let subMins: [UInt8] = [0, 1, 2, 3, 48, 49, 50, 51]
        var packed = [UInt8](repeating: 0, count: 12)
        for s in 0..<4 {
            packed[s] = subScales[s] | (subScales[s + 4] >> 4) << 6
            packed[s + 4] = subMins[s] | (subMins[s + 4] >> 4) << 6
            packed[s + 8] = (subScales[s + 4] & 0x0f) | (subMins[s + 4] & 0x0f) << 4
        }
        // Each 32-byte run of qs holds sub-block 2p in its low nibbles and 2p + 1 in its high nibbles.
        let codes: [UInt8] = (0..<256).map { (e: Int) -> UInt8 in UInt8((e * 5 + e / 32) % 16) }
        var qs = [UInt8](repeating: 0, count: 128)
        for p in 0..<4 {
            for l in 0..<32 {
                let low: UInt8 = codes[64 * p + l], high: UInt8 = codes[64 * p + 32 + l]
                qs[32 * p + l] = low | high << 4
            }
        }
        let d: Float = 1, dmin: Float = 0.5
        let block = littleEndianBytes([0x3c00, 0x3800]) + packed + qs
        let expected: [Float] = (0..<256).map { (e: Int) -> Float in
            let scale = Float(subScales[e / 32]), min = Float(subMins[e / 32])
            return d * scale * Float(codes[e]) - dmin * min
        }
        assertBitIdentical(decode(.q4_K, block, misalignedBy: 0, count: 256), expected, "Q4_K")
    }

    func testQ6_KHandBuiltBlock() {
        // 6-bit codes (re-centred by 32) split into ql nibbles and qh bit pairs; one Int8 scale per 16
        // elements; f16 d last. In each 128-element half, element l + 32k takes ql[l] (k = 0 low,
        // k = 2 high nibble) or ql[l + 32] (k = 1 low, k = 3 high), and bits 2k…2k+1 of qh[l].
        let codes: [UInt8] = (0..<256).map { (e: Int) -> UInt8 in UInt8((e * 11 + 3) % 64) }
        let scales: [Int8] = [-128, 127, 1, -1, 2, -2, 64, -64, 3, -3, 100, -100, 7, -7, 0, 127]
        var ql = [UInt8](repeating: 0, count: 128)
        var qh = [UInt8](repeating: 0, count: 64)
        for half in 0..<2 {
            for l in 0..<32 {
                let c = (0..<4).map { codes[128 * half + l + 32 * $0] }
                ql[64 * half + l] = (c[0] & 0x0f) | (c[2] & 0x0f) << 4
                ql[64 * half + l + 32] = (c[1] & 0x0f) | (c[3] & 0x0f) << 4
                qh[32 * half + l] = c[0] >> 4 | (c[1] >> 4) << 2 | (c[2] >> 4) << 4 | (c[3] >> 4) << 6
            }
        }
        let d: Float = 0.25
        let block = ql + qh + scales.map { UInt8(bitPattern: $0) } + littleEndianBytes([0x3400])
        let expected: [Float] = (0..<256).map { (e: Int) -> Float in d * Float(scales[e / 16]) * Float(Int32(codes[e]) - 32) }
        assertBitIdentical(decode(.q6_K, block, misalignedBy: 0, count: 256), expected, "Q6_K")
    }

    // MARK: Helpers

    private func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: TestPaths.repository + "/Tests/StreamPPLTests/Fixtures/quant/" + name))
    }

    /// Copies `raw` to `misalignment` bytes past a 16-byte-aligned address and dequantizes it there.
    private func decode(_ type: TensorType, _ raw: some Collection<UInt8>, misalignedBy misalignment: Int, count: Int) -> [Float] {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: raw.count + misalignment, alignment: 16)
        defer { storage.deallocate() }
        let bytes = Array(raw)
        (storage + misalignment).copyMemory(from: bytes, byteCount: bytes.count)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            dequantize(type, from: UnsafeRawPointer(storage + misalignment), into: buffer.baseAddress!, count: count)
            initialized = count
        }
    }

    private func littleEndianBytes(_ values: [UInt16]) -> [UInt8] {
        values.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
    }

    /// Equal bit patterns, except that any NaN matches any NaN (NaN quieting may differ between
    /// conversion routines).
    private func assertBitIdentical(_ actual: [Float], _ expected: [Float], _ label: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, label, file: file, line: line)
        let mismatches = zip(actual, expected).enumerated().filter { _, pair in
            !(pair.0.bitPattern == pair.1.bitPattern || (pair.0.isNaN && pair.1.isNaN))
        }
        for (index, (got, want)) in mismatches.prefix(5) {
            XCTFail("\(label)[\(index)]: got \(got) (0x\(String(got.bitPattern, radix: 16))), "
                    + "want \(want) (0x\(String(want.bitPattern, radix: 16)))", file: file, line: line)
        }
        XCTAssertTrue(mismatches.isEmpty, "\(label): \(mismatches.count) of \(expected.count) values differ", file: file, line: line)
    }
}
