/// A ggml tensor element type, as numbered in GGUF tensor infos (ggml.h `enum ggml_type`).
/// Only the types streamppl can dequantize are listed; any other id is rejected by the reader.
public enum TensorType: UInt32, CaseIterable, Sendable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q4_K = 12
    case q5_K = 13
    case q6_K = 14
    case bf16 = 30

    /// The name llama.cpp and the `gguf` Python package use.
    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q4_K: "Q4_K"
        case .q5_K: "Q5_K"
        case .q6_K: "Q6_K"
        case .bf16: "BF16"
        }
    }

    /// Elements per block: a row's length must be a multiple of it.
    public var blockElements: Int {
        switch self {
        case .f32, .f16, .bf16: 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: 32
        case .q4_K, .q5_K, .q6_K: 256
        }
    }

    /// Bytes per block (ggml-common.h block structs).
    public var blockBytes: Int {
        switch self {
        case .f32: 4
        case .f16, .bf16: 2
        case .q4_0: 18   // f16 d, 16 bytes of nibbles
        case .q4_1: 20   // f16 d, f16 m, 16 bytes of nibbles
        case .q5_0: 22   // f16 d, 4 bytes high bits, 16 bytes of nibbles
        case .q5_1: 24   // f16 d, f16 m, 4 bytes high bits, 16 bytes of nibbles
        case .q8_0: 34   // f16 d, 32 int8
        case .q4_K: 144  // f16 d, f16 dmin, 12 bytes scales, 128 bytes nibbles
        case .q5_K: 176  // f16 d, f16 dmin, 12 bytes scales, 32 bytes high bits, 128 bytes nibbles
        case .q6_K: 210  // 128 bytes low nibbles, 64 bytes high bits, 16 int8 scales, f16 d
        }
    }

    /// Bytes needed for `elements` values, or nil when `elements` is not a whole number of blocks.
    public func byteCount(elements: Int) -> Int? {
        guard elements >= 0, elements % blockElements == 0 else { return nil }
        let (bytes, overflow) = (elements / blockElements).multipliedReportingOverflow(by: blockBytes)
        return overflow ? nil : bytes
    }
}
