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
    private let cosines = FloatBuffer()  // (tablePositions, dimensions/2)
    private let sines = FloatBuffer()
    private var tablePositions = 0
    private let scratch = FloatBuffer()  // cos then sin of one position beyond the table

    /// Turns the first `dimensions` values of each head of `headSize` by angles with base `base`.
    public init(dimensions: Int, headSize: Int, base: Double) {
        self.dimensions = dimensions
        self.headSize = headSize
        inverseFrequencies = (0 ..< dimensions / 2).map { pow(base, -2 * Double($0) / Double(dimensions)) }
        scratch.reserve(dimensions)
    }

    /// Makes positions 0..<count come from the table.
    public func reserve(positions count: Int) {
        guard count > tablePositions else { return }
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
        let half = dimensions / 2
        let (cosValues, sinValues): (UnsafePointer<Float>, UnsafePointer<Float>)
        if position < tablePositions {
            (cosValues, sinValues) = (UnsafePointer(cosines.pointer + position * half), UnsafePointer(sines.pointer + position * half))
        } else {
            fill(cos: scratch.pointer, sin: scratch.pointer + half, position: position)
            (cosValues, sinValues) = (UnsafePointer(scratch.pointer), UnsafePointer(scratch.pointer + half))
        }
        for head in 0 ..< headCount {
            let v = source + head * headSize, out = destination + head * headSize
            for i in 0 ..< half {
                let c = cosValues[i], s = sinValues[i]
                let x0 = v[2 * i], x1 = v[2 * i + 1]
                out[2 * i] = x0 * c - x1 * s
                out[2 * i + 1] = x0 * s + x1 * c
            }
            if dimensions < headSize, source != UnsafePointer(destination) {
                (out + dimensions).update(from: v + dimensions, count: headSize - dimensions)
            }
        }
    }
}
