#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rotary position embedding as llama.cpp applies it to Llama GGUFs (`LLAMA_ROPE_TYPE_NORM`): within each
/// head, the pairs (2i, 2i+1) of the first `dimensions` values turn by position · base^(-2i/dimensions).
/// The converter permuted Q and K so that this equals Hugging Face's rotate-half form.
///
/// Angles are computed in Float64 from integer positions, so a large position loses no precision; a table
/// of cos/sin per position is kept for the small positions that caches use over and over.
public final class RotaryEmbedding {
    public let dimensions: Int
    public let headSize: Int
    private let inverseFrequencies: [Double]
    private var cosines: [Float] = []  // (tablePositions, dimensions/2)
    private var sines: [Float] = []
    private var tablePositions = 0

    public init(config: ModelConfig) {
        dimensions = config.ropeDimensions
        headSize = config.headSize
        inverseFrequencies = (0 ..< config.ropeDimensions / 2).map { pow(config.ropeBase, -2 * Double($0) / Double(config.ropeDimensions)) }
    }

    /// Makes positions 0..<count come from the table.
    public func reserve(positions count: Int) {
        guard count > tablePositions else { return }
        let newCount = max(count, tablePositions * 2)
        let half = dimensions / 2
        cosines.reserveCapacity(newCount * half)
        sines.reserveCapacity(newCount * half)
        for position in tablePositions ..< newCount {
            for frequency in inverseFrequencies {
                let angle = Double(position) * frequency
                cosines.append(Float(cos(angle)))
                sines.append(Float(sin(angle)))
            }
        }
        tablePositions = newCount
    }

    /// Rotates `headCount` consecutive heads of one token, all to `position`.
    public func rotate(_ vector: UnsafeMutablePointer<Float>, headCount: Int, position: Int) {
        let half = dimensions / 2
        if position < tablePositions {
            cosines.withUnsafeBufferPointer { cosTable in
                sines.withUnsafeBufferPointer { sinTable in
                    let base = position * half
                    apply(vector, headCount: headCount, cos: { cosTable[base + $0] }, sin: { sinTable[base + $0] })
                }
            }
        } else {
            let angles = inverseFrequencies.map { Double(position) * $0 }
            let cosValues = angles.map { Float(cos($0)) }, sinValues = angles.map { Float(sin($0)) }
            apply(vector, headCount: headCount, cos: { cosValues[$0] }, sin: { sinValues[$0] })
        }
    }

    @inline(__always)
    private func apply(_ vector: UnsafeMutablePointer<Float>, headCount: Int, cos: (Int) -> Float, sin: (Int) -> Float) {
        for head in 0 ..< headCount {
            let v = vector + head * headSize
            for i in 0 ..< dimensions / 2 {
                let c = cos(i), s = sin(i)
                let x0 = v[2 * i], x1 = v[2 * i + 1]
                v[2 * i] = x0 * c - x1 * s
                v[2 * i + 1] = x0 * s + x1 * c
            }
        }
    }
}
