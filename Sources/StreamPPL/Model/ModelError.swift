/// Why a GGUF file cannot be used as a model.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(path: String, architecture: String)
    case missingKey(path: String, key: String)
    case invalidValue(path: String, key: String, value: String, expected: String)
    case missingTensor(path: String, tensor: String)
    case unsupportedTensor(path: String, tensor: String, architecture: String)
    case tensorShape(path: String, tensor: String, found: [Int], expected: [Int])

    public var description: String {
        switch self {
        case let .unsupportedArchitecture(path, architecture):
            "\(path): unsupported architecture '\(architecture.escapingControlCharacters)' (general.architecture); supported: \(ModelRegistry.architectures.joined(separator: ", "))"
        case let .missingKey(path, key):
            "\(path): missing metadata key '\(key.escapingControlCharacters)'"
        case let .invalidValue(path, key, value, expected):
            "\(path): metadata key '\(key.escapingControlCharacters)' is \(value), expected \(expected)"
        case let .missingTensor(path, tensor):
            "\(path): missing tensor '\(tensor.escapingControlCharacters)'"
        case let .unsupportedTensor(path, tensor, architecture):
            "\(path): tensor '\(tensor.escapingControlCharacters)' is not supported for \(architecture.escapingControlCharacters) (streamppl does not implement it)"
        case let .tensorShape(path, tensor, found, expected):
            "\(path): tensor '\(tensor.escapingControlCharacters)' has shape \(found), expected \(expected)"
        }
    }
}
