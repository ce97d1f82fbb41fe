import Foundation

/// Writes small GGUF files (metadata only, no tensors) so that tokenizer tests can build a
/// `Tokenizer` from a hand-written vocabulary through the same `init(gguf:)` as real models.
enum TinyGGUF {
    enum Value {
        case string(String)
        case uint32(UInt32)
        case bool(Bool)
        case strings([String])
        case floats([Float])
        case int32s([Int32])
    }

    /// Writes the file to a fresh temporary path and returns the path.
    static func write(_ metadata: [(key: String, value: Value)]) throws -> String {
        var data = Data()
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        func appendString(_ text: String) {
            append(UInt64(text.utf8.count))
            data.append(contentsOf: Array(text.utf8))
        }
        data.append(contentsOf: Array("GGUF".utf8))
        append(UInt32(3)) // version
        append(UInt64(0)) // tensors
        append(UInt64(metadata.count))
        for (key, value) in metadata {
            appendString(key)
            switch value {
            case let .string(text): append(UInt32(8)); appendString(text)
            case let .uint32(number): append(UInt32(4)); append(number)
            case let .bool(flag): append(UInt32(7)); data.append(flag ? 1 : 0)
            case let .strings(items):
                append(UInt32(9)); append(UInt32(8)); append(UInt64(items.count))
                items.forEach(appendString)
            case let .floats(items):
                append(UInt32(9)); append(UInt32(6)); append(UInt64(items.count))
                items.forEach { append($0.bitPattern) }
            case let .int32s(items):
                append(UInt32(9)); append(UInt32(5)); append(UInt64(items.count))
                items.forEach { append($0) }
            }
        }
        while data.count % 32 != 0 { data.append(0) }
        let path = NSTemporaryDirectory() + "streamppl-tokenizer-\(UUID().uuidString).gguf"
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }
}
