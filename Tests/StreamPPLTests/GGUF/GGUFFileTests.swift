import Foundation
import XCTest
@testable import StreamPPL
@testable import StreamPPLKernels

/// The GGUF reader: every metadata type, the tensor table and data, and each kind of corrupt file failing with
/// the right `GGUFError` case and a one-line message that names the file.
final class GGUFFileTests: TemporaryFilesTestCase {
    // MARK: Helpers

    /// Little-endian bytes of an integer.
    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }

    /// The first index of `pattern` in `bytes` (there must be exactly one).
    static func index(of pattern: String, in bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> Int {
        let needle = Array(pattern.utf8)
        var found: [Int] = []
        if bytes.count >= needle.count {
            for start in 0 ... bytes.count - needle.count where bytes[start ..< start + needle.count].elementsEqual(needle) {
                found.append(start)
            }
        }
        XCTAssertEqual(found.count, 1, "'\(pattern)' should occur once in the file", file: file, line: line)
        return found.first ?? 0
    }

    static func patch<T: FixedWidthInteger>(_ bytes: inout [UInt8], at offset: Int, _ value: T) {
        bytes.replaceSubrange(offset ..< offset + MemoryLayout<T>.size, with: le(value))
    }

    /// Byte offset of a tensor info's fields, found from its (unique) name.
    static func tensorInfo(_ name: String, dimensionCount: Int, in bytes: [UInt8]) -> (type: Int, offset: Int) {
        let type = index(of: name, in: bytes) + name.utf8.count + 4 + 8 * dimensionCount
        return (type, type + 4)
    }

    /// Opens `bytes` written to a temporary file; the error, checked to name the file on one line.
    func openError(_ bytes: [UInt8], name: String = "corrupt.gguf",
                   file: StaticString = #filePath, line: UInt = #line) throws -> (error: GGUFError, path: String)? {
        let path = try keep(TemporaryFiles.write(bytes, name: name))
        return openError(path: path, file: file, line: line).map { ($0, path) }
    }

    func openError(path: String, file: StaticString = #filePath, line: UInt = #line) -> GGUFError? {
        do {
            let gguf = try GGUFFile(path: path)
            XCTFail("\(path) opened with \(gguf.tensors.count) tensors; expected an error", file: file, line: line)
            return nil
        } catch {
            let message = error.description
            XCTAssertTrue(message.contains(path), "message does not name the file: \(message)", file: file, line: line)
            XCTAssertFalse(message.contains("\n"), "message is not one line: \(message)", file: file, line: line)
            XCTAssertFalse(message.isEmpty, file: file, line: line)
            return error
        }
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return (0 ..< count).map { _ in UInt8.random(in: 0 ... 255, using: &random) }
    }

    /// A small valid file: metadata (several keys, the last a string) then two F32 tensors, "first" [8] and "second" [4, 2].
    static func smallWriter(version: UInt32 = 3) -> GGUFWriter {
        var writer = GGUFWriter()
        writer.version = version
        writer.set("general.architecture", .string("llama"))
        writer.set("general.name", .string("small"))
        writer.set("test.count", .uint32(12))
        writer.set("test.big", .int64(-5_000_000_000))
        writer.set("test.list", .array([.int32(1), .int32(2), .int32(3)]))
        writer.set("test.last", .string("the last value"))
        writer.addFloatTensor("first", dimensions: [8], values: (0 ..< 8).map(Float.init))
        writer.addFloatTensor("second", dimensions: [4, 2], values: (0 ..< 8).map { Float($0) * -0.5 })
        return writer
    }

    // MARK: Round trips

    static let everyType: [(String, GGUFValue)] = [
        ("t.uint8", .uint8(200)),
        ("t.int8", .int8(-100)),
        ("t.uint16", .uint16(60_000)),
        ("t.int16", .int16(-30_000)),
        ("t.uint32", .uint32(4_000_000_000)),
        ("t.int32", .int32(-2_000_000_000)),
        ("t.float32", .float32(-3.25)),
        ("t.bool.true", .bool(true)),
        ("t.bool.false", .bool(false)),
        ("t.string", .string("héllo ✓ \"quoted\"\n\t")),
        ("t.string.empty", .string("")),
        ("t.uint64", .uint64(.max)),
        ("t.int64", .int64(.min)),
        ("t.float64", .float64(-1.25e300)),
        ("t.array.uint8", .array([.uint8(0), .uint8(255)])),
        ("t.array.int8", .array([.int8(-128), .int8(127)])),
        ("t.array.uint16", .array([.uint16(1), .uint16(65_535)])),
        ("t.array.int16", .array([.int16(-1)])),
        ("t.array.uint32", .array([.uint32(7), .uint32(8), .uint32(9)])),
        ("t.array.int32", .array([.int32(-1), .int32(0), .int32(1)])),
        ("t.array.float32", .array([.float32(0.5), .float32(-2), .float32(.infinity)])),
        ("t.array.bool", .array([.bool(true), .bool(false), .bool(true)])),
        ("t.array.string", .array([.string("a"), .string(""), .string("ü ✓")])),
        ("t.array.uint64", .array([.uint64(.max), .uint64(0)])),
        ("t.array.int64", .array([.int64(.min), .int64(.max)])),
        ("t.array.float64", .array([.float64(1e-300), .float64(-0.0)])),
        ("t.array.empty", .array([])),
    ]

    func testEveryMetadataValueTypeRoundTripsInVersions2And3() throws {
        for version: UInt32 in [2, 3] {
            var writer = GGUFWriter()
            writer.version = version
            for (key, value) in Self.everyType { writer.set(key, value) }
            let gguf = try GGUFFile(path: try keep(writer.write()))
            XCTAssertEqual(gguf.version, version)
            XCTAssertEqual(gguf.metadataKeys, Self.everyType.map(\.0), "keys in file order")
            XCTAssertEqual(gguf.metadata.count, Self.everyType.count)
            for (key, value) in Self.everyType {
                XCTAssertEqual(gguf.metadata[key], value, "\(key) in v\(version)")
            }
            XCTAssertTrue(gguf.tensors.isEmpty)
            // -0.0 == 0.0, so check the sign bit survived too.
            if case let .array(items)? = gguf.metadata["t.array.float64"], case let .float64(zero) = items[1] {
                XCTAssertEqual(zero.sign, .minus)
            } else {
                XCTFail("t.array.float64 is not an array of float64")
            }
        }
    }

    func testNaNFloatRoundTripsBitForBit() throws {
        var writer = GGUFWriter()
        writer.set("nan32", .float32(Float(bitPattern: 0x7FC0_1234)))
        writer.set("nan64", .float64(Double(bitPattern: 0x7FF8_0000_0000_0042)))
        let gguf = try GGUFFile(path: try keep(writer.write()))
        guard case let .float32(f)? = gguf.metadata["nan32"], case let .float64(d)? = gguf.metadata["nan64"] else {
            return XCTFail("NaN values lost their type")
        }
        XCTAssertEqual(f.bitPattern, 0x7FC0_1234)
        XCTAssertEqual(d.bitPattern, 0x7FF8_0000_0000_0042)
    }

    func testTypedAccessors() throws {
        var writer = GGUFWriter()
        for (key, value) in Self.everyType { writer.set(key, value) }
        let gguf = try GGUFFile(path: try keep(writer.write()))

        XCTAssertEqual(gguf.string("t.string"), "héllo ✓ \"quoted\"\n\t")
        XCTAssertEqual(gguf.string("t.string.empty"), "")
        XCTAssertNil(gguf.string("missing"))
        XCTAssertNil(gguf.string("t.uint32"))
        XCTAssertNil(gguf.string("t.array.string"))

        XCTAssertEqual(gguf.int("t.uint8"), 200)
        XCTAssertEqual(gguf.int("t.int8"), -100)
        XCTAssertEqual(gguf.int("t.uint16"), 60_000)
        XCTAssertEqual(gguf.int("t.int16"), -30_000)
        XCTAssertEqual(gguf.int("t.uint32"), 4_000_000_000)
        XCTAssertEqual(gguf.int("t.int32"), -2_000_000_000)
        XCTAssertEqual(gguf.int("t.int64"), Int(Int64.min))
        XCTAssertNil(gguf.int("t.uint64"), "UInt64.max does not fit in Int")
        XCTAssertNil(gguf.int("missing"))
        XCTAssertNil(gguf.int("t.float32"))
        XCTAssertNil(gguf.int("t.float64"))
        XCTAssertNil(gguf.int("t.string"))
        XCTAssertNil(gguf.int("t.bool.true"))
        XCTAssertNil(gguf.int("t.array.int32"))

        XCTAssertEqual(gguf.float("t.float32"), -3.25)
        XCTAssertEqual(gguf.float("t.float64"), Float(-1.25e300))
        XCTAssertEqual(gguf.float("t.uint32"), 4_000_000_000, "integers widen to Float (documented in GGUFValue.floatValue)")
        XCTAssertNil(gguf.float("missing"))
        XCTAssertNil(gguf.float("t.string"))
        XCTAssertNil(gguf.float("t.bool.false"))
        XCTAssertNil(gguf.float("t.array.float32"))

        XCTAssertEqual(gguf.bool("t.bool.true"), true)
        XCTAssertEqual(gguf.bool("t.bool.false"), false)
        XCTAssertNil(gguf.bool("missing"))
        XCTAssertNil(gguf.bool("t.uint8"))
        XCTAssertNil(gguf.bool("t.string"))

        XCTAssertEqual(gguf.stringArray("t.array.string"), ["a", "", "ü ✓"])
        XCTAssertEqual(gguf.stringArray("t.array.empty"), [])
        XCTAssertNil(gguf.stringArray("missing"))
        XCTAssertNil(gguf.stringArray("t.array.int32"))
        XCTAssertNil(gguf.stringArray("t.string"))

        XCTAssertEqual(gguf.intArray("t.array.int32"), [-1, 0, 1])
        XCTAssertEqual(gguf.intArray("t.array.uint8"), [0, 255])
        XCTAssertEqual(gguf.intArray("t.array.int64"), [Int(Int64.min), Int(Int64.max)])
        XCTAssertEqual(gguf.intArray("t.array.empty"), [])
        XCTAssertNil(gguf.intArray("t.array.uint64"), "UInt64.max does not fit in Int")
        XCTAssertNil(gguf.intArray("missing"))
        XCTAssertNil(gguf.intArray("t.array.string"))
        XCTAssertNil(gguf.intArray("t.array.float32"))
        XCTAssertNil(gguf.intArray("t.uint32"))

        XCTAssertEqual(gguf.floatArray("t.array.float32"), [0.5, -2, .infinity])
        XCTAssertEqual(gguf.floatArray("t.array.float64"), [1e-300, -0.0].map(Float.init))
        XCTAssertEqual(gguf.floatArray("t.array.int32"), [-1, 0, 1])
        XCTAssertEqual(gguf.floatArray("t.array.empty"), [])
        XCTAssertNil(gguf.floatArray("missing"))
        XCTAssertNil(gguf.floatArray("t.array.string"))
        XCTAssertNil(gguf.floatArray("t.array.bool"))
        XCTAssertNil(gguf.floatArray("t.float32"))
    }

    /// Tensors of several types and ranks: the table and the bytes come back exactly as written.
    func testTensorTableAndData() throws {
        let specs: [(name: String, dimensions: [Int], type: TensorType)] = [
            ("scalarish", [1], .f32),
            ("vector", [8], .f32),
            ("half", [4, 2], .f16),
            ("brain", [3, 1, 2], .bf16),
            ("four.d", [2, 1, 1, 3], .f32),
            ("q8", [64, 2], .q8_0),
            ("q4", [32, 3], .q4_0),
            ("q4k", [256], .q4_K),
            ("q6k", [512, 1], .q6_K),
        ]
        for version: UInt32 in [2, 3] {
            var writer = GGUFWriter()
            writer.version = version
            writer.set("general.architecture", .string("llama"))
            var payloads: [[UInt8]] = []
            for (index, spec) in specs.enumerated() {
                let elements = spec.dimensions.reduce(1, *)
                let byteCount = try XCTUnwrap(spec.type.byteCount(elements: elements))
                let data = Self.randomBytes(byteCount, seed: UInt64(index))
                payloads.append(data)
                writer.addTensor(spec.name, dimensions: spec.dimensions, type: spec.type.rawValue, data: data)
            }
            let path = try keep(writer.write())
            let gguf = try GGUFFile(path: path)
            let fileBytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            XCTAssertEqual(gguf.fileSize, fileBytes.count)
            XCTAssertEqual(gguf.path, path)

            // The data section is at the end: each tensor padded to 32 bytes.
            let padded = payloads.map { ($0.count + 31) / 32 * 32 }
            let dataStart = fileBytes.count - padded.reduce(0, +)
            XCTAssertEqual(dataStart % 32, 0)
            XCTAssertEqual(gguf.tensors.map(\.name), specs.map(\.name))
            var expectedOffset = dataStart
            for (index, (tensor, spec)) in zip(gguf.tensors, specs).enumerated() {
                XCTAssertEqual(tensor.dimensions, spec.dimensions, spec.name)
                XCTAssertEqual(tensor.type, spec.type, spec.name)
                XCTAssertEqual(tensor.offset, expectedOffset, spec.name)
                XCTAssertEqual(tensor.byteCount, payloads[index].count, spec.name)
                XCTAssertEqual(tensor.elementCount, spec.dimensions.reduce(1, *), spec.name)
                XCTAssertEqual(gguf.tensor(named: spec.name), tensor)
                let data = Array(UnsafeRawBufferPointer(start: gguf.data(of: tensor), count: tensor.byteCount))
                XCTAssertEqual(data, payloads[index], "data of \(spec.name) in v\(version)")
                expectedOffset += padded[index]
            }
            XCTAssertNil(gguf.tensor(named: "missing"))
        }
    }

    func testFloatTensorValues() throws {
        let gguf = try GGUFFile(path: try keep(Self.smallWriter().write()))
        let second = try XCTUnwrap(gguf.tensor(named: "second"))
        let values = Array(UnsafeBufferPointer(start: gguf.data(of: second).assumingMemoryBound(to: Float.self), count: 8))
        XCTAssertEqual(values, (0 ..< 8).map { Float($0) * -0.5 })
        XCTAssertEqual(gguf.metadataKeys, ["general.architecture", "general.name", "test.count", "test.big", "test.list", "test.last"])
    }

    /// `general.alignment` = 64 moves the data section and every tensor to multiples of 64, where 32 would not.
    func testAlignment64IsHonoured() throws {
        let payloads = [Self.randomBytes(40, seed: 1), Self.randomBytes(24, seed: 2), Self.randomBytes(100, seed: 3)]
        // Pad the header so that it ends 1...32 bytes past a multiple of 64: aligning to 32 would then give a
        // different data start than aligning to 64.
        for padding in 0 ..< 64 {
            // F32 tensors of 40, 24 and 100 bytes: 10, 6 and 25 elements.
            var writer = GGUFWriter()
            writer.alignment = 64
            writer.set("general.alignment", .uint32(64))
            writer.set("pad", .string(String(repeating: "x", count: padding)))
            for (index, payload) in payloads.enumerated() {
                writer.addTensor("t\(index)", dimensions: [payload.count / 4], type: TensorType.f32.rawValue, data: payload)
            }
            var unaligned = writer
            unaligned.alignment = 1
            let headerSize = unaligned.bytes().count - payloads.map(\.count).reduce(0, +)
            guard (1 ... 32).contains(headerSize % 64) else { continue }

            let gguf = try GGUFFile(path: try keep(writer.write()))
            let dataStart = (headerSize + 63) / 64 * 64
            XCTAssertNotEqual(dataStart, (headerSize + 31) / 32 * 32, "the test must tell 32 from 64")
            XCTAssertEqual(gguf.int("general.alignment"), 64)
            XCTAssertEqual(gguf.tensors.map(\.offset), [dataStart, dataStart + 64, dataStart + 128])
            XCTAssertEqual(gguf.fileSize, dataStart + 64 + 64 + 128)
            for (tensor, payload) in zip(gguf.tensors, payloads) {
                XCTAssertEqual(tensor.byteCount, payload.count)
                XCTAssertEqual(Array(UnsafeRawBufferPointer(start: gguf.data(of: tensor), count: tensor.byteCount)), payload)
            }
            return
        }
        XCTFail("no padding length gave a header that tells 32 from 64")
    }

    /// `GGUFFile(bytes:name:)` (the fuzz targets' entry) reads a copy of the bytes with the same code as a file:
    /// same metadata, tensors and data, and the same errors with `name` standing for the path.
    func testBytesInMemoryReadLikeTheFile() throws {
        var writer = Self.smallWriter()
        writer.addTensor("q8", dimensions: [32], type: TensorType.q8_0.rawValue, data: Self.randomBytes(34, seed: 3))
        let bytes = writer.bytes()
        let fromFile = try GGUFFile(path: keep(TemporaryFiles.write(bytes, name: "small.gguf")))
        var copy = bytes
        let inMemory = try copy.withUnsafeBytes { buffer in try GGUFFile(bytes: buffer, name: "in-memory.gguf") }
        copy = []  // the file object holds its own copy
        XCTAssertEqual(inMemory.path, "in-memory.gguf")
        XCTAssertEqual(inMemory.fileSize, bytes.count)
        XCTAssertEqual(inMemory.metadata, fromFile.metadata)
        XCTAssertEqual(inMemory.metadataKeys, fromFile.metadataKeys)
        XCTAssertEqual(inMemory.tensors, fromFile.tensors)
        for tensor in inMemory.tensors {
            XCTAssertEqual(Array(UnsafeRawBufferPointer(start: inMemory.data(of: tensor), count: tensor.byteCount)),
                           Array(UnsafeRawBufferPointer(start: fromFile.data(of: tensor), count: tensor.byteCount)), tensor.name)
        }

        for (input, expected) in [([UInt8](), GGUFError.truncated(path: "x.gguf", reading: "magic", offset: 0, needed: 4, fileSize: 0)),
                                  (Array(bytes.prefix(6)), .truncated(path: "x.gguf", reading: "version", offset: 4, needed: 4, fileSize: 6))] {
            XCTAssertThrowsError(try input.withUnsafeBytes { buffer in try GGUFFile(bytes: buffer, name: "x.gguf") }) { error in
                XCTAssertEqual(error as? GGUFError, expected)
            }
        }
    }

    // MARK: Corrupt files

    func testMissingFileDirectoryAndEmptyFile() throws {
        let folder = try keep(TemporaryFiles.directory())
        let missing = folder + "/nope.gguf"
        guard case let .cannotOpen(path, reason)? = openError(path: missing) else { return XCTFail("expected cannotOpen") }
        XCTAssertEqual(path, missing)
        XCTAssertFalse(reason.isEmpty)

        guard case let .cannotOpen(dirPath, _)? = openError(path: folder) else { return XCTFail("expected cannotOpen for a folder") }
        XCTAssertEqual(dirPath, folder)

        let (error, emptyPath) = try XCTUnwrap(try openError([], name: "empty.gguf"))
        XCTAssertEqual(error, .truncated(path: emptyPath, reading: "magic", offset: 0, needed: 4, fileSize: 0))
    }

    func testWrongMagic() throws {
        var bytes = Self.smallWriter().bytes()
        bytes.replaceSubrange(0 ..< 4, with: Array("GGML".utf8))
        let (error, path) = try XCTUnwrap(try openError(bytes))
        XCTAssertEqual(error, .badMagic(path: path, found: "'GGML'"))
        XCTAssertTrue(error.description.contains("GGML"))

        bytes.replaceSubrange(0 ..< 4, with: [0x00, 0x01, 0xFE, 0x7F])
        let (binary, binaryPath) = try XCTUnwrap(try openError(bytes))
        XCTAssertEqual(binary, .badMagic(path: binaryPath, found: "0x0001fe7f"))

        // Plain text is not a GGUF file either.
        let (text, textPath) = try XCTUnwrap(try openError(Array("Once upon a time".utf8), name: "book.txt"))
        XCTAssertEqual(text, .badMagic(path: textPath, found: "'Once'"))
    }

    func testBadVersion() throws {
        for version: UInt32 in [0, 1, 4, 0x0300_0000] {  // the last: a big-endian v3 file
            var writer = Self.smallWriter()
            writer.version = version
            let (error, path) = try XCTUnwrap(try openError(writer.bytes()))
            XCTAssertEqual(error, .unsupportedVersion(path: path, version: version))
        }
    }

    /// The small file cut at points inside each part of the header: always `.truncated`, naming what was being read.
    func testTruncatedHeader() throws {
        let bytes = Self.smallWriter().bytes()
        func truncated(at cut: Int, file: StaticString = #filePath, line: UInt = #line)
            throws -> (reading: String, offset: Int, needed: Int, path: String)? {
            let (error, path) = try XCTUnwrap(try openError(Array(bytes[..<cut]), name: "cut\(cut).gguf", file: file, line: line),
                                              file: file, line: line)
            guard case let .truncated(errorPath, reading, offset, needed, fileSize) = error else {
                XCTFail("cut at \(cut): expected truncated, got \(error)", file: file, line: line)
                return nil
            }
            XCTAssertEqual(errorPath, path, file: file, line: line)
            XCTAssertEqual(fileSize, cut, file: file, line: line)
            XCTAssertLessThan(offset, cut + 1, file: file, line: line)
            return (reading, offset, needed, path)
        }

        // Inside the magic, the version and the tensor count: exact.
        for cut in [1, 2, 3] {
            let r = try XCTUnwrap(try truncated(at: cut))
            XCTAssertEqual([r.reading, "\(r.offset)", "\(r.needed)"], ["magic", "0", "4"])
        }
        let version = try XCTUnwrap(try truncated(at: 6))
        XCTAssertEqual([version.reading, "\(version.offset)", "\(version.needed)"], ["version", "4", "4"])
        let tensorCount = try XCTUnwrap(try truncated(at: 12))
        XCTAssertEqual([tensorCount.reading, "\(tensorCount.offset)", "\(tensorCount.needed)"], ["tensor count", "8", "8"])
        // Inside the metadata count: the counts no longer fit in what remains.
        let counts = try XCTUnwrap(try truncated(at: 20))
        XCTAssertTrue(counts.reading.contains("count"), counts.reading)

        // Inside a key: the last key's name.
        let lastKey = Self.index(of: "test.last", in: bytes)
        let key = try XCTUnwrap(try truncated(at: lastKey + 4))
        XCTAssertTrue(key.reading.contains("metadata key"), key.reading)
        // Inside a key's length.
        let keyLength = try XCTUnwrap(try truncated(at: lastKey - 3))
        XCTAssertTrue(keyLength.reading.contains("metadata key"), keyLength.reading)
        // Inside a key's type.
        let keyType = try XCTUnwrap(try truncated(at: lastKey + 9 + 2))
        XCTAssertTrue(keyType.reading.contains("type of 'test.last'"), keyType.reading)

        // Inside values: a fixed-width one (exact) and a string.
        let bigValue = Self.index(of: "test.big", in: bytes) + 8 + 4
        let big = try XCTUnwrap(try truncated(at: bigValue + 3))
        XCTAssertEqual([big.reading, "\(big.offset)", "\(big.needed)"], ["value of 'test.big'", "\(bigValue)", "8"])
        let lastValue = Self.index(of: "the last value", in: bytes)
        let string = try XCTUnwrap(try truncated(at: lastValue + 5))
        XCTAssertTrue(string.reading.contains("value of 'test.last'"), string.reading)
        // Inside an array's elements.
        let listValue = Self.index(of: "test.list", in: bytes) + 9 + 4 + 4 + 8
        // The array's length already promises more bytes than remain: caught before reading an element.
        let list = try XCTUnwrap(try truncated(at: listValue + 6))
        XCTAssertEqual([list.reading, "\(list.offset)", "\(list.needed)"], ["length of 'test.list' 3", "\(listValue - 8)", "12"])

        // Inside tensor infos: the second tensor's name, dimensions, type and offset.
        let second = Self.index(of: "second", in: bytes)
        let name = try XCTUnwrap(try truncated(at: second + 3))
        XCTAssertTrue(name.reading.contains("name of tensor 1"), name.reading)
        let dimensionCount = try XCTUnwrap(try truncated(at: second + 6 + 1))
        XCTAssertEqual(dimensionCount.reading, "dimension count of 'second'")
        let dimensions = try XCTUnwrap(try truncated(at: second + 6 + 4 + 12))
        XCTAssertEqual([dimensions.reading, "\(dimensions.offset)", "\(dimensions.needed)"],
                       ["dimensions of 'second'", "\(second + 6 + 4 + 8)", "8"])
        let (typeAt, offsetAt) = Self.tensorInfo("second", dimensionCount: 2, in: bytes)
        let type = try XCTUnwrap(try truncated(at: typeAt + 2))
        XCTAssertEqual([type.reading, "\(type.offset)", "\(type.needed)"], ["type of 'second'", "\(typeAt)", "4"])
        let offset = try XCTUnwrap(try truncated(at: offsetAt + 7))
        XCTAssertEqual([offset.reading, "\(offset.offset)", "\(offset.needed)"], ["data offset of 'second'", "\(offsetAt)", "8"])
    }

    /// Cutting the end of the file (the last tensor's bytes) or cutting right after the tensor table.
    func testTruncatedTensorData() throws {
        let writer = Self.smallWriter()
        let bytes = writer.bytes()
        let full = try GGUFFile(path: try keep(writer.write()))
        let last = try XCTUnwrap(full.tensors.last)
        XCTAssertEqual(last.name, "second")
        XCTAssertEqual(last.offset + last.byteCount, bytes.count, "the small file ends with the last tensor's bytes")

        for cut in [bytes.count - 1, bytes.count - 16, last.offset + 1, last.offset] {
            let (error, path) = try XCTUnwrap(try openError(Array(bytes[..<cut])))
            XCTAssertEqual(error, .tensorOutOfBounds(path: path, tensor: "second", end: last.offset + last.byteCount, fileSize: cut))
        }
        // Cut inside the first tensor: it is the one reported.
        let first = full.tensors[0]
        let cut = first.offset + 4
        let (error, path) = try XCTUnwrap(try openError(Array(bytes[..<cut])))
        XCTAssertEqual(error, .tensorOutOfBounds(path: path, tensor: "first", end: first.offset + first.byteCount, fileSize: cut))
    }

    func testTensorOffsetPastTheEnd() throws {
        let writer = Self.smallWriter()
        let full = try GGUFFile(path: try keep(writer.write()))
        let second = try XCTUnwrap(full.tensor(named: "second"))
        let dataStart = full.tensors[0].offset
        let (_, offsetAt) = Self.tensorInfo("second", dimensionCount: 2, in: writer.bytes())

        // An aligned offset inside the file whose data runs past its end.
        var bytes = writer.bytes()
        let relative = (bytes.count - dataStart) / 32 * 32
        Self.patch(&bytes, at: offsetAt, UInt64(relative))
        let (error, path) = try XCTUnwrap(try openError(bytes))
        XCTAssertEqual(error, .tensorOutOfBounds(path: path, tensor: "second", end: dataStart + relative + second.byteCount,
                                                 fileSize: bytes.count))

        // Offsets far past the end of the file, up to the largest uint64.
        for huge: UInt64 in [UInt64(bytes.count) * 64, 1 << 40, 1 << 62, .max] {
            Self.patch(&bytes, at: offsetAt, huge)
            let (error, path) = try XCTUnwrap(try openError(bytes))
            XCTAssertEqual(error, .tensorOffsetOutOfBounds(path: path, tensor: "second", offset: huge, fileSize: bytes.count))
        }
    }

    func testTensorOffsetNotAligned() throws {
        var bytes = Self.smallWriter().bytes()
        let (_, offsetAt) = Self.tensorInfo("second", dimensionCount: 2, in: bytes)
        Self.patch(&bytes, at: offsetAt, UInt64(36))
        let (error, path) = try XCTUnwrap(try openError(bytes))
        guard case let .badTensorShape(errorPath, tensor, detail) = error else { return XCTFail("got \(error)") }
        XCTAssertEqual([errorPath, tensor], [path, "second"])
        XCTAssertTrue(detail.contains("36"), detail)
    }

    func testUnknownTensorType() throws {
        // 99 is no ggml type; 10 is Q2_K, 16 IQ2_XXS and 28 F64: real types streamppl does not dequantize.
        for typeID: UInt32 in [99, 10, 11, 15, 16, 28, 31, .max] {
            var writer = Self.smallWriter()
            writer.addTensor("odd", dimensions: [256], type: typeID, data: [UInt8](repeating: 0, count: 1024))
            let (error, path) = try XCTUnwrap(try openError(writer.bytes()))
            XCTAssertEqual(error, .unknownTensorType(path: path, tensor: "odd", type: typeID))
            XCTAssertTrue(error.description.contains("Q8_0"), "the message lists the supported types: \(error)")
        }
    }

    func testRowLengthNotAMultipleOfTheBlockSize() throws {
        let cases: [(TensorType, [Int])] = [(.q8_0, [33]), (.q8_0, [33, 2]), (.q4_0, [16, 4]), (.q4_K, [128, 2]), (.q6_K, [257])]
        for (type, dimensions) in cases {
            var writer = Self.smallWriter()
            writer.addTensor("bad.rows", dimensions: dimensions, type: type.rawValue, data: [UInt8](repeating: 0, count: 4096))
            let (error, path) = try XCTUnwrap(try openError(writer.bytes()))
            guard case let .badTensorShape(errorPath, tensor, detail) = error else {
                XCTFail("\(type.name) \(dimensions): expected badTensorShape, got \(error)")
                continue
            }
            XCTAssertEqual([errorPath, tensor], [path, "bad.rows"])
            XCTAssertTrue(detail.contains("\(dimensions[0])") && detail.contains(type.name) && detail.contains("\(type.blockElements)"),
                          detail)
        }
    }

    func testBadDimensions() throws {
        for dimensions in [[Int](), [1, 1, 1, 1, 1], [4, 0]] {
            var writer = Self.smallWriter()
            writer.addTensor("bad.dims", dimensions: dimensions, type: TensorType.f32.rawValue, data: [UInt8](repeating: 0, count: 64))
            let (error, path) = try XCTUnwrap(try openError(writer.bytes()))
            guard case let .badTensorShape(errorPath, tensor, _) = error else {
                XCTFail("\(dimensions): expected badTensorShape, got \(error)")
                continue
            }
            XCTAssertEqual([errorPath, tensor], [path, "bad.dims"])
        }
    }

    /// Huge counts and lengths fail at once with `.truncated`, before any allocation of that size.
    func testHugeLengthsFailFastAsTruncated() throws {
        let base = Self.smallWriter().bytes()
        let fields: [(what: String, at: Int)] = [
            ("tensor count", 8),
            ("metadata count", 16),
            ("length of metadata key", Self.index(of: "test.last", in: base) - 8),
            ("length of value of 'test.last'", Self.index(of: "the last value", in: base) - 8),
            ("length of 'test.list'", Self.index(of: "test.list", in: base) + 9 + 4 + 4),
            ("length of name of tensor 1", Self.index(of: "second", in: base) - 8),
        ]
        for (what, at) in fields {
            for huge: UInt64 in [1 << 40, 1 << 62, .max, UInt64(base.count)] {
                var bytes = base
                Self.patch(&bytes, at: at, huge)
                let started = Date()
                let (error, path) = try XCTUnwrap(try openError(bytes))
                XCTAssertLessThan(Date().timeIntervalSince(started), 1, "\(what) = \(huge) took too long")
                guard case let .truncated(errorPath, reading, offset, _, fileSize) = error else {
                    XCTFail("\(what) = \(huge): expected truncated, got \(error)")
                    continue
                }
                XCTAssertEqual(errorPath, path)
                XCTAssertEqual(fileSize, bytes.count)
                XCTAssertEqual(offset, at, "\(what): the offset is the count's own")
                XCTAssertTrue(reading.hasPrefix(what), "\(what): reading '\(reading)'")
            }
        }
    }

    func testAlignmentMustBeAPowerOfTwo() throws {
        for alignment: GGUFValue in [.uint32(48), .uint32(0), .int32(-32), .uint64(3), .uint8(96)] {
            var writer = Self.smallWriter()
            writer.set("general.alignment", alignment)
            let (error, path) = try XCTUnwrap(try openError(writer.bytes()))
            XCTAssertEqual(error, .invalidAlignment(path: path, alignment: try XCTUnwrap(alignment.intValue)))
        }
    }

    /// A file that says 64 but whose tensor offsets are only 32-aligned.
    func testTensorOffsetsMustFollowTheDeclaredAlignment() throws {
        var writer = GGUFWriter()
        writer.set("general.alignment", .uint32(64))
        writer.addFloatTensor("a", dimensions: [8], values: Array(repeating: 1, count: 8))
        writer.addFloatTensor("b", dimensions: [8], values: Array(repeating: 2, count: 8))
        writer.addFloatTensor("c", dimensions: [8], values: Array(repeating: 3, count: 8))
        let (error, path) = try XCTUnwrap(try openError(writer.bytes()))
        guard case let .badTensorShape(errorPath, tensor, detail) = error else { return XCTFail("got \(error)") }
        XCTAssertEqual([errorPath, tensor], [path, "b"])
        XCTAssertTrue(detail.contains("64"), detail)
    }

    func testDuplicateKeyAndDuplicateTensor() throws {
        var writer = Self.smallWriter()
        writer.set("test.count", .uint32(13))
        let (error, path) = try XCTUnwrap(try openError(writer.bytes()))
        XCTAssertEqual(error, .duplicateName(path: path, kind: "metadata key", name: "test.count"))

        // Same key with another type is still a duplicate.
        writer = Self.smallWriter()
        writer.set("general.name", .uint8(1))
        let (other, otherPath) = try XCTUnwrap(try openError(writer.bytes()))
        XCTAssertEqual(other, .duplicateName(path: otherPath, kind: "metadata key", name: "general.name"))

        writer = Self.smallWriter()
        writer.addFloatTensor("first", dimensions: [8], values: Array(repeating: 0, count: 8))
        let (tensor, tensorPath) = try XCTUnwrap(try openError(writer.bytes()))
        XCTAssertEqual(tensor, .duplicateName(path: tensorPath, kind: "tensor", name: "first"))
    }

    func testUnknownValueTypes() throws {
        var bytes = Self.smallWriter().bytes()
        let typeAt = Self.index(of: "test.count", in: bytes) + 10
        for type: UInt32 in [13, 99, .max] {
            Self.patch(&bytes, at: typeAt, type)
            let (error, path) = try XCTUnwrap(try openError(bytes))
            XCTAssertEqual(error, .invalidValueType(path: path, key: "test.count", type: type))
        }
        // An array whose element type is unknown, and an array of arrays (rejected, as by llama.cpp).
        bytes = Self.smallWriter().bytes()
        let elementAt = Self.index(of: "test.list", in: bytes) + 9 + 4
        Self.patch(&bytes, at: elementAt, UInt32(13))
        let (unknown, unknownPath) = try XCTUnwrap(try openError(bytes))
        XCTAssertEqual(unknown, .invalidValueType(path: unknownPath, key: "test.list", type: 13))
        Self.patch(&bytes, at: elementAt, UInt32(9))
        let (nested, nestedPath) = try XCTUnwrap(try openError(bytes))
        XCTAssertEqual(nested, .nestedArray(path: nestedPath, key: "test.list"))
    }

    func testInvalidUTF8InAKeyOrString() throws {
        var bytes = Self.smallWriter().bytes()
        let key = Self.index(of: "test.last", in: bytes)
        bytes[key + 1] = 0xFF
        let (error, path) = try XCTUnwrap(try openError(bytes))
        XCTAssertEqual(error, .invalidString(path: path, offset: key))

        bytes = Self.smallWriter().bytes()
        let value = Self.index(of: "the last value", in: bytes)
        bytes[value + 3] = 0xC0
        let (valueError, valuePath) = try XCTUnwrap(try openError(bytes))
        XCTAssertEqual(valueError, .invalidString(path: valuePath, offset: value))
    }

    /// Every case's message: one line, naming the file.
    func testEveryDescriptionIsOneLineNamingTheFile() {
        let path = "/some/dir/model file.gguf"
        let errors: [GGUFError] = [
            .cannotOpen(path: path, reason: "No such file or directory"),
            .badMagic(path: path, found: "'GGML'"),
            .unsupportedVersion(path: path, version: 4),
            .truncated(path: path, reading: "magic", offset: 0, needed: 4, fileSize: 2),
            .invalidValueType(path: path, key: "k", type: 13),
            .invalidString(path: path, offset: 40),
            .invalidAlignment(path: path, alignment: 48),
            .unknownTensorType(path: path, tensor: "t", type: 10),
            .badTensorShape(path: path, tensor: "t", detail: "row length 33 is not a multiple of the Q8_0 block size 32"),
            .tensorOutOfBounds(path: path, tensor: "t", end: 1000, fileSize: 900),
            .duplicateName(path: path, kind: "tensor", name: "k"),
            .tensorOffsetOutOfBounds(path: path, tensor: "t", offset: 1 << 40, fileSize: 900),
            .nestedArray(path: path, key: "k"),
        ]
        for error in errors {
            XCTAssertTrue(error.description.hasPrefix(path + ": "), error.description)
            XCTAssertFalse(error.description.contains("\n"), error.description)
        }
    }
}
