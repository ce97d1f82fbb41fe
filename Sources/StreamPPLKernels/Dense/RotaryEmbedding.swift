#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rotary position embedding as llama.cpp applies it: within each head, pair i of the first `dimensions`
/// values turns by position · base^(-2i/dimensions). Which values pair up is the architecture's (`Pairing`).
///
/// Angles are computed in Float64 from integer positions, so a large position loses no precision; a table
/// of cos/sin per position is kept for the small positions that caches use over and over. With 0 dimensions
/// (a model without rotary, such as MPT with ALiBi) it rotates nothing and only copies.
public final class RotaryEmbedding {
    /// Which two values of a head turn together.
    public enum Pairing: Sendable {
        /// (2i, 2i+1): llama.cpp's `LLAMA_ROPE_TYPE_NORM`, for Llama GGUFs, whose converter permuted Q and K so
        /// that this equals Hugging Face's rotate-half form.
        case adjacent
        /// (i, i + dimensions/2): `LLAMA_ROPE_TYPE_NEOX`, Hugging Face's rotate-half on unpermuted weights
        /// (Qwen2, Gemma-3, GPT-NeoX).
        case halves
    }

    public let dimensions: Int
    public let pairing: Pairing
    public let headSize: Int
    private let inverseFrequencies: [Double]
    private let cosines = FloatBuffer()  // (tablePositions, dimensions/2)
    private let sines = FloatBuffer()
    private var tablePositions = 0
    private let scratch = FloatBuffer()  // cos then sin of one position beyond the table

    /// Turns the first `dimensions` values of each head of `headSize` by angles with base `base`.
    public init(dimensions: Int, headSize: Int, base: Double, pairing: Pairing = .adjacent) {
        self.dimensions = dimensions
        self.pairing = pairing
        self.headSize = headSize
        inverseFrequencies = (0 ..< dimensions / 2).map { pow(base, -2 * Double($0) / Double(dimensions)) }
        scratch.reserve(dimensions)
    }

    /// Makes positions 0..<count come from the table.
    public func reserve(positions count: Int) {
        guard dimensions > 0, count > tablePositions else { return }
        let newCount = max(count, tablePositions * 2)
        let half = dimensions / 2
        cosines.reserve(newCount * half, preserving: tablePositions * half)
        sines.reserve(newCount * half, preserving: tablePositions * half)
        for position in tablePositions ..< newCount {
            fill(cos: cosines.pointer + position * half, sin: sines.pointer + position * half, position: position)
        }
        tablePositions = newCount
    }

    private func fill(cos cosOut: UnsafeMutablePointer<Float>, sin sinOut: UnsafeMutablePointer<Float>, position: Int) {
        for (i, frequency) in inverseFrequencies.enumerated() {
            let angle = Double(position) * frequency
            cosOut[i] = Float(cos(angle))
            sinOut[i] = Float(sin(angle))
        }
    }

    /// Rotates `headCount` consecutive heads of one token, all to `position`, in place.
    public func rotate(_ vector: UnsafeMutablePointer<Float>, headCount: Int, position: Int) {
        rotate(UnsafePointer(vector), into: vector, headCount: headCount, position: position)
    }

    /// Writes `source` rotated to `position` into `destination` (which may be `source`).
    public func rotate(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, headCount: Int, position: Int) {
        guard dimensions > 0 else {
            if source != UnsafePointer(destination) { destination.update(from: source, count: headCount * headSize) }
            return
        }
        let half = dimensions / 2
        let (cosValues, sinValues): (UnsafePointer<Float>, UnsafePointer<Float>)
        if position < tablePositions {
            (cosValues, sinValues) = (UnsafePointer(cosines.pointer + position * half), UnsafePointer(sines.pointer + position * half))
        } else {
            fill(cos: scratch.pointer, sin: scratch.pointer + half, position: position)
            (cosValues, sinValues) = (UnsafePointer(scratch.pointer), UnsafePointer(scratch.pointer + half))
        }
        // Pair i is (i * first, i * first + second): (2i, 2i+1) adjacent, (i, i+half) in halves.
        let (first, second) = pairing == .adjacent ? (2, 1) : (1, half)
        for head in 0 ..< headCount {
            let v = source + head * headSize, out = destination + head * headSize
            for i in 0 ..< half {
                let c = cosValues[i], s = sinValues[i]
                let a = i * first, b = a + second
                let x0 = v[a], x1 = v[b]
                out[a] = x0 * c - x1 * s
                out[b] = x0 * s + x1 * c
            }
            if dimensions < headSize, source != UnsafePointer(destination) {
                (out + dimensions).update(from: v + dimensions, count: headSize - dimensions)
            }
        }
    }
}
