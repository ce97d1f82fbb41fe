/// Dequantizes `count` consecutive elements starting at the beginning of a block at `source`,
/// writing Float32 values to `destination`. The results are bit-identical to ggml's reference
/// `dequantize_row_*` functions (without fused multiply-add).
///
/// - Precondition: `count` is a non-negative multiple of `type.blockElements`; `source` holds
///   `type.byteCount(elements: count)` readable bytes (any alignment) and `destination` has room for
///   `count` Floats. Data is little-endian, as in GGUF files. Only checked in debug builds.
public func dequantize(_ type: TensorType, from source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int) {
    assert(count >= 0 && count % type.blockElements == 0, "\(count) is not a whole number of \(type.name) blocks")
    let blockCount = count / type.blockElements
    switch type {
    case .f32:
        // Little-endian hosts only (as all of streamppl's targets are): the bytes are the Floats.
        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
    case .f16:
        for i in 0..<count {
            destination[i] = source.halfFloat(at: 2 * i)
        }
    case .bf16:
        for i in 0..<count {
            destination[i] = floatFromBFloat16Bits(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
    case .q4_0: forEachBlock(blockCount, type, source, destination, dequantizeQ4_0Block)
    case .q4_1: forEachBlock(blockCount, type, source, destination, dequantizeQ4_1Block)
    case .q5_0: forEachBlock(blockCount, type, source, destination, dequantizeQ5_0Block)
    case .q5_1: forEachBlock(blockCount, type, source, destination, dequantizeQ5_1Block)
    case .q8_0: forEachBlock(blockCount, type, source, destination, dequantizeQ8_0Block)
    case .q4_K: forEachBlock(blockCount, type, source, destination, dequantizeQ4_KBlock)
    case .q5_K: forEachBlock(blockCount, type, source, destination, dequantizeQ5_KBlock)
    case .q6_K: forEachBlock(blockCount, type, source, destination, dequantizeQ6_KBlock)
    }
}

/// Runs a block decoder over consecutive blocks. Always inlined so that each call site above gets
/// its own loop with the decoder inlined into it: the closure never survives to run time.
@inline(__always)
private func forEachBlock(
    _ blockCount: Int, _ type: TensorType, _ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>,
    _ decodeBlock: (UnsafeRawPointer, UnsafeMutablePointer<Float>) -> Void
) {
    let blockBytes = type.blockBytes, blockElements = type.blockElements
    for block in 0..<blockCount {
        decodeBlock(source + block * blockBytes, destination + block * blockElements)
    }
}
