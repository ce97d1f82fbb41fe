/// The definition of SPEC §2, one token per forward pass: the cache holds slots, the new token takes the
/// next slot, every key is rotated to its slot index (or its original position) at every step, and after
/// the step the oldest non-sink slot is evicted while more than `sinks + window` remain.
/// It is the reference the chunked `StreamingCache` is tested against, so it shares none of its indexing.
public final class ExactCache: KVCache {
    public let sinks: Int
    public let window: Int?
    public let positions: PositionMode

    private let shape: AttentionShape
    private let rotary: RotaryEmbedding
    /// Per layer, the cached keys (before rotary) and values, one row per slot, in slot order.
    private var keys: [[Float]]
    private var values: [[Float]]
    /// The stream index of the token in each slot.
    private var slotTokens: [Int] = []
    private var fedCount = 0
    private var rotatedKeys: [Float] = []
    private var query: [Float]
    private var weights: [Float] = []

    public init(shape: AttentionShape, rotary: RotaryEmbedding, sinks: Int, window: Int?, positions: PositionMode = .cache) {
        self.shape = shape
        self.rotary = rotary
        self.sinks = sinks
        self.window = window
        self.positions = positions
        keys = Array(repeating: [], count: shape.layers)
        values = Array(repeating: [], count: shape.layers)
        query = Array(repeating: 0, count: shape.headSize * shape.heads)
    }

    public func prepare(count: Int) {
        precondition(count == 1, "the exact cache feeds one token per forward pass")
    }

    public func attend(layer: Int, queries: UnsafeMutablePointer<Float>, keys newKeys: UnsafePointer<Float>,
                       values newValues: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        let kvWidth = shape.keyValueWidth, headSize = shape.headSize
        // The new token takes the next slot and attends to itself too.
        keys[layer].append(contentsOf: UnsafeBufferPointer(start: newKeys, count: kvWidth))
        values[layer].append(contentsOf: UnsafeBufferPointer(start: newValues, count: kvWidth))
        let slotCount = keys[layer].count / kvWidth
        func position(ofSlot slot: Int) -> Int {
            positions == .cache ? slot : (slot < slotTokens.count ? slotTokens[slot] : fedCount)
        }
        rotary.reserve(positions: slotCount)

        rotatedKeys = keys[layer]
        rotatedKeys.withUnsafeMutableBufferPointer { rotated in
            for slot in 0 ..< slotCount {
                rotary.rotate(rotated.baseAddress! + slot * kvWidth, headCount: shape.keyValueHeads, position: position(ofSlot: slot))
            }
        }
        query.withUnsafeMutableBufferPointer { q in
            q.baseAddress!.update(from: queries, count: shape.queryWidth)
            rotary.rotate(q.baseAddress!, headCount: shape.heads, position: position(ofSlot: slotCount - 1))
        }
        weights = Array(repeating: 0, count: slotCount)
        for head in 0 ..< shape.heads {
            let group = head / shape.groupSize
            query.withUnsafeBufferPointer { q in
                rotatedKeys.withUnsafeBufferPointer { k in
                    for slot in 0 ..< slotCount {
                        weights[slot] = shape.scale * LinearAlgebra.dot(q.baseAddress! + head * headSize,
                                                                        k.baseAddress! + slot * kvWidth + group * headSize, count: headSize)
                    }
                }
            }
            weights.withUnsafeMutableBufferPointer { LinearAlgebra.softmax($0.baseAddress!, count: slotCount) }
            let out = output + head * headSize
            out.update(repeating: 0, count: headSize)
            values[layer].withUnsafeBufferPointer { v in
                for slot in 0 ..< slotCount {
                    let value = v.baseAddress! + slot * kvWidth + group * headSize
                    for d in 0 ..< headSize { out[d] += weights[slot] * value[d] }
                }
            }
        }
    }

    public func commit(count: Int) {
        slotTokens.append(fedCount)
        fedCount += count
        guard let window, slotTokens.count > sinks + window else { return }
        // Keep slots [0, sinks) and the `window` most recent.
        let kvWidth = shape.keyValueWidth
        for layer in 0 ..< shape.layers {
            keys[layer].removeSubrange(sinks * kvWidth ..< (sinks + 1) * kvWidth)
            values[layer].removeSubrange(sinks * kvWidth ..< (sinks + 1) * kvWidth)
        }
        slotTokens.remove(at: sinks)
    }
}
