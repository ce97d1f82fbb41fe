import Foundation
@testable import StreamPPL
@testable import StreamPPLKernels

/// Builds GGUF files byte by byte, so reader and model tests run on tiny files they make themselves.
struct GGUFWriter {
    var version: UInt32 = 3
    var alignment = 32
    private(set) var metadata: [(String, GGUFValue)] = []
    private(set) var tensors: [(name: String, dimensions: [Int], type: UInt32, data: [UInt8])] = []

    mutating func set(_ key: String, _ value: GGUFValue) { metadata.append((key, value)) }

    mutating func addTensor(_ name: String, dimensions: [Int], type: UInt32, data: [UInt8]) {
        tensors.append((name, dimensions, type, data))
    }

    mutating func addFloatTensor(_ name: String, dimensions: [Int], values: [Float]) {
        addTensor(name, dimensions: dimensions, type: TensorType.f32.rawValue,
                  data: values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    }

    func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) } }
        func putString(_ s: String) { put(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        func typeID(_ value: GGUFValue) -> UInt32 {
            switch value {
            case .uint8: 0
            case .int8: 1
            case .uint16: 2
            case .int16: 3
            case .uint32: 4
            case .int32: 5
            case .float32: 6
            case .bool: 7
            case .string: 8
            case .array: 9
            case .uint64: 10
            case .int64: 11
            case .float64: 12
            }
        }
        func putValue(_ value: GGUFValue) {
            switch value {
            case let .uint8(v): put(v)
            case let .int8(v): put(v)
            case let .uint16(v): put(v)
            case let .int16(v): put(v)
            case let .uint32(v): put(v)
            case let .int32(v): put(v)
            case let .uint64(v): put(v)
            case let .int64(v): put(v)
            case let .float32(v): put(v.bitPattern)
            case let .float64(v): put(v.bitPattern)
            case let .bool(v): put(UInt8(v ? 1 : 0))
            case let .string(s): putString(s)
            case let .array(items):
                put(items.first.map(typeID) ?? 4)
                put(UInt64(items.count))
                items.forEach(putValue)
            }
        }
        out.append(contentsOf: Array("GGUF".utf8))
        put(version)
        put(UInt64(tensors.count))
        put(UInt64(metadata.count))
        for (key, value) in metadata {
            putString(key)
            put(typeID(value))
            putValue(value)
        }
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            offsets.append(offset)
            offset += (tensor.data.count + alignment - 1) / alignment * alignment
        }
        for (tensor, offset) in zip(tensors, offsets) {
            putString(tensor.name)
            put(UInt32(tensor.dimensions.count))
            tensor.dimensions.forEach { put(UInt64($0)) }
            put(tensor.type)
            put(UInt64(offset))
        }
        while out.count % alignment != 0 { out.append(0) }
        for tensor in tensors {
            out.append(contentsOf: tensor.data)
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }

    /// Writes the file into a fresh temporary folder and returns its path.
    func write(name: String = "model.gguf") throws -> String {
        try TemporaryFiles.write(bytes(), name: name)
    }
}

enum TemporaryFiles {
    static func directory() throws -> String {
        let path = NSTemporaryDirectory() + "streamppl-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ bytes: [UInt8], name: String) throws -> String {
        let path = try directory() + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

extension GGUFWriter {
    /// A GGUF file with only these metadata entries and no tensors (enough for a tokenizer).
    static func metadataOnly(_ entries: [(String, GGUFValue)]) throws -> String {
        var writer = GGUFWriter()
        for (key, value) in entries { writer.set(key, value) }
        return try writer.write(name: "vocabulary.gguf")
    }
}

extension GGUFValue {
    static func strings(_ items: [String]) -> GGUFValue { .array(items.map(GGUFValue.string)) }
    static func floats(_ items: [Float]) -> GGUFValue { .array(items.map(GGUFValue.float32)) }
    static func int32s(_ items: [Int32]) -> GGUFValue { .array(items.map(GGUFValue.int32)) }
}
