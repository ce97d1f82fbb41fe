import StreamPPLKernels

/// Why a GGUF file could not be read. Every message names the file, what was found and what was expected.
public enum GGUFError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case badMagic(path: String, found: String)
    case unsupportedVersion(path: String, version: UInt32)
    case truncated(path: String, reading: String, offset: Int, needed: Int, fileSize: Int)
    case invalidValueType(path: String, key: String, type: UInt32)
    case invalidString(path: String, offset: Int)
    case invalidAlignment(path: String, alignment: Int)
    case unknownTensorType(path: String, tensor: String, type: UInt32)
    case badTensorShape(path: String, tensor: String, detail: String)
    case tensorOutOfBounds(path: String, tensor: String, end: Int, fileSize: Int)
    case tensorOffsetOutOfBounds(path: String, tensor: String, offset: UInt64, fileSize: Int)
    case nestedArray(path: String, key: String)
    case duplicateName(path: String, kind: String, name: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            "\(path): cannot open: \(reason)"
        case let .badMagic(path, found):
            "\(path): not a GGUF file: invalid magic \(found), expected 'GGUF'"
        case let .unsupportedVersion(path, version):
            "\(path): unsupported GGUF version \(version), expected 2 or 3"
        case let .truncated(path, reading, offset, needed, fileSize):
            "\(path): truncated GGUF file: \(reading) at byte \(offset) needs at least \(needed) bytes, the file has \(fileSize)"
        case let .invalidValueType(path, key, type):
            "\(path): metadata key '\(key.escapingControlCharacters)' has unknown value type \(type), expected 0...12"
        case let .invalidString(path, offset):
            "\(path): string at byte \(offset) is not valid UTF-8"
        case let .invalidAlignment(path, alignment):
            "\(path): general.alignment is \(alignment), expected a power of two"
        case let .unknownTensorType(path, tensor, type):
            "\(path): tensor '\(tensor.escapingControlCharacters)' has unsupported type \(type); supported: "
                + TensorType.allCases.map(\.name).joined(separator: ", ")
        case let .badTensorShape(path, tensor, detail):
            "\(path): tensor '\(tensor.escapingControlCharacters)': \(detail)"
        case let .tensorOutOfBounds(path, tensor, end, fileSize):
            "\(path): tensor '\(tensor.escapingControlCharacters)' data ends at byte \(end), past the end of the file (\(fileSize) bytes); the file is truncated or corrupt"
        case let .tensorOffsetOutOfBounds(path, tensor, offset, fileSize):
            "\(path): tensor '\(tensor.escapingControlCharacters)' has data offset \(offset), past the end of the file (\(fileSize) bytes); the file is truncated or corrupt"
        case let .nestedArray(path, key):
            "\(path): metadata key '\(key.escapingControlCharacters)' is an array of arrays, which GGUF readers do not support"
        case let .duplicateName(path, kind, name):
            "\(path): \(kind) '\(name.escapingControlCharacters)' appears twice"
        }
    }
}
