import StreamPPLKernels

/// The definition of METHOD.md §2, one token per forward pass: the cache holds slots, the new token takes the
/// next slot, every key is rotated to its slot index (or its original position) at every step, and after
/// the step the oldest non-sink slot is evicted while more than `sinks + window` remain.
/// It is the reference the chunked `StreamingCache` is tested against, so it shares none of its indexing.
///
/// Slots live in a sink area (the first `sinks` tokens) and a ring of the most recent ones, so eviction
/// moves nothing: it only advances the ring's start. ALiBi's biases use the positions rotary uses.
public final class ExactCache: ResumableCache {
    public let sinks: Int
    public let window: Int?
    public let positions: PositionMode

    private let shape: AttentionShape
    private let rotary: RotaryEmbedding
    private let local: LocalAttention?
    private let alibi: ALiBi?
    private let keys: [FloatBuffer]     // per layer (sinks + ringCapacity, kvWidth), keys before rotary
    private let values: [FloatBuffer]   // per layer, same layout
    private var streamIndices: [Int]    // per physical row: the stream index of the token stored there
    private var sinkCount = 0           // sink slots filled
    private var ringStart = 0           // physical ring position of the oldest window slot
    private var ringCount = 0           // window slots filled (the new token's not yet committed)
    private var ringCapacity: Int
    private var fedCount = 0

    /// Physical row of each slot this step (the new token's last), the same for every layer.
    private var slotRows: [Int] = []
    /// Each slot's position this step, the one rotary and ALiBi see.
    private var slotPositions: [Int] = []
    /// The first slot a local layer sees this step.
    private var firstLocalSlot = 0
    private let rotatedKeys = FloatBuffer()    // (slots, kvWidth), in physical row order
    private let query = FloatBuffer()          // (heads * headSize)
    private let weights = FloatBuffer()        // (heads, slots)

    /// `local`: the model's local layers, when it has them; `alibi`: its position biases, when it has them.
    public init(shape: AttentionShape, rotary: RotaryEmbedding, sinks: Int, window: Int?, positions: PositionMode = .cache,
                local: LocalAttention? = nil, alibi: ALiBi? = nil) {
        self.shape = shape
        self.rotary = rotary
        self.local = local
        self.alibi = alibi
        self.sinks = sinks
        self.window = window
        self.positions = positions
        // The window's tokens plus the one being fed, which is evicted from only after its step.
        ringCapacity = (window ?? 255) + 1
        let rows = sinks + ringCapacity
        keys = (0 ..< shape.layers).map { _ in FloatBuffer(capacity: rows * shape.keyValueWidth) }
        values = (0 ..< shape.layers).map { _ in FloatBuffer(capacity: rows * shape.keyValueWidth) }
        streamIndices = Array(repeating: 0, count: rows)
        query.reserve(shape.queryWidth)
    }

    public func prepare(count: Int) {
        precondition(count == 1, "the exact cache feeds one token per forward pass")
        if sinkCount == sinks, ringCount == ringCapacity { growRing() }
        slotRows = (0 ..< sinkCount + ringCount + 1).map(row(ofSlot:))
        streamIndices[slotRows[slotRows.count - 1]] = fedCount
        slotPositions = positions == .cache ? Array(slotRows.indices) : slotRows.map { streamIndices[$0] }
        // Positions grow with the slot: a local layer sees the last slots, those within its window of the query's.
        if let local {
            let lowest = local.lowestVisiblePosition(query: slotPositions[slotPositions.count - 1])
            firstLocalSlot = slotPositions.firstIndex { $0 >= lowest } ?? slotPositions.count - 1
        }
    }

    /// Physical row of slot `slot` (slots: sinks in order, then the window oldest first).
    private func row(ofSlot slot: Int) -> Int {
        // While the sinks are filling, the ring is empty and every slot is a sink.
        slot < sinks ? slot : sinks + (ringStart + slot - sinks) % ringCapacity
    }

    public func attend(layer: Int, queries: UnsafeMutablePointer<Float>, keys newKeys: UnsafePointer<Float>,
                       values newValues: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        let kvWidth = shape.keyValueWidth
        // The new token takes the next slot and attends to itself too.
        let slotCount = slotRows.count
        let newRow = slotRows[slotCount - 1]
        (keys[layer].pointer + newRow * kvWidth).update(from: newKeys, count: kvWidth)
        (values[layer].pointer + newRow * kvWidth).update(from: newValues, count: kvWidth)

        let isLocal = local?.isLocal(layer) ?? false
        let rotary = isLocal ? local!.rotary : self.rotary
        rotary.reserve(positions: slotCount)
        rotatedKeys.reserve(slotCount * kvWidth)
        weights.reserve(shape.heads * slotCount)
        // The slots fill physical rows 0..<slotCount (the sinks, then a ring that is either still filling from its
        // first row or full), so each key is rotated into its own row, beside its value, and one segment in row
        // order covers them all. Row order is also what `restore` puts back, so a resumed run sums alike.
        for slot in 0 ..< slotCount {
            let row = slotRows[slot]
            rotary.rotate(keys[layer].pointer + row * kvWidth, into: rotatedKeys.pointer + row * kvWidth,
                          headCount: shape.keyValueHeads, position: slotPositions[slot])
        }
        let queryPosition = slotPositions[slotCount - 1]
        rotary.rotate(queries, into: query.pointer, headCount: shape.heads, position: queryPosition)
        var rowPositions: [Int] = []   // per physical row: its slot's position (only with ALiBi)
        if alibi != nil {
            rowPositions = Array(repeating: 0, count: slotCount)
            for slot in 0 ..< slotCount { rowPositions[slotRows[slot]] = slotPositions[slot] }
        }
        /// ALiBi's bias for the keys of physical rows `rows`, at their slots' positions.
        func bias(rows: Range<Int>) -> AttentionSegment.PositionBias? {
            alibi?.bias(queryPositions: [queryPosition], keyPositions: Array(rowPositions[rows]))
        }
        guard isLocal else {
            let segment = AttentionSegment(queries: query.pointer, keys: rotatedKeys.pointer, values: values[layer].pointer, count: slotCount,
                                           visible: [0 ..< slotCount], probabilities: weights.pointer, products: .vector,
                                           bias: bias(rows: 0 ..< slotCount))
            Attention.attend([segment], rows: 1, shape: shape, output: output)
            return
        }
        // A local layer's slots, from `firstLocalSlot` on, lie in at most three runs of physical rows (sinks, ring end, ring start).
        var segments: [AttentionSegment] = []
        var runStart = slotRows[firstLocalSlot], runLength = 0, scratch = 0
        func closeRun() {
            guard runLength > 0 else { return }
            segments.append(AttentionSegment(queries: query.pointer, keys: rotatedKeys.pointer + runStart * kvWidth,
                                             values: values[layer].pointer + runStart * kvWidth, count: runLength,
                                             visible: [0 ..< runLength], probabilities: weights.pointer + scratch, products: .vector,
                                             bias: bias(rows: runStart ..< runStart + runLength)))
            scratch += shape.heads * runLength
        }
        for slot in firstLocalSlot ..< slotCount {
            let row = slotRows[slot]
            if runLength > 0, row == runStart + runLength {
                runLength += 1
            } else {
                closeRun()
                (runStart, runLength) = (row, 1)
            }
        }
        closeRun()
        Attention.attend(segments, rows: 1, shape: shape, output: output)
    }

    public func commit(count: Int) {
        fedCount += count
        if sinkCount < sinks { sinkCount += 1 } else { ringCount += 1 }
        // Keep slots [0, sinks) and the `window` most recent.
        if let window, ringCount > window {
            ringStart = (ringStart + 1) % ringCapacity
            ringCount -= 1
        }
    }

    public func snapshot() -> KVCacheSnapshot {
        let width = shape.keyValueWidth
        let rows = (0 ..< sinkCount + ringCount).map(row(ofSlot:))
        func slots(_ buffer: FloatBuffer) -> [Float] {
            rows.flatMap { UnsafeBufferPointer(start: buffer.pointer + $0 * width, count: width) }
        }
        return KVCacheSnapshot(fedCount: fedCount, streamIndices: rows.map { streamIndices[$0] },
                               keys: keys.map(slots), values: values.map(slots))
    }

    /// Puts every token back in the physical row it had in the run that saved the snapshot (sinks in order, then
    /// ring token k at ring row k mod capacity), so a resumed run adds up its attention in the same order.
    public func restore(_ snapshot: KVCacheSnapshot) -> Bool {
        guard snapshot.fits(shape, sinks: sinks, window: window) else { return false }
        let width = shape.keyValueWidth
        let slotCount = snapshot.streamIndices.count
        sinkCount = min(sinks, snapshot.fedCount)
        ringCount = slotCount - sinkCount
        fedCount = snapshot.fedCount
        // The ring must also hold the token of the next step.
        while ringCount >= ringCapacity { ringCapacity *= 2 }
        // Ring tokens fill the ring in feed order; every eviction advances its start by one.
        ringStart = (fedCount - sinkCount - ringCount) % ringCapacity
        let rows = snapshot.streamIndices.map { $0 < sinks ? $0 : sinks + ($0 - sinks) % ringCapacity }
        streamIndices = Array(repeating: 0, count: sinks + ringCapacity)
        for (slot, row) in rows.enumerated() { streamIndices[row] = snapshot.streamIndices[slot] }
        for layer in 0 ..< shape.layers {
            for (buffer, source) in [(keys[layer], snapshot.keys[layer]), (values[layer], snapshot.values[layer])] {
                buffer.reserve((sinks + ringCapacity) * width)
                source.withUnsafeBufferPointer { slots in
                    for (slot, row) in rows.enumerated() {
                        (buffer.pointer + row * width).update(from: slots.baseAddress! + slot * width, count: width)
                    }
                }
            }
        }
        return true
    }

    public var heldTokens: Int { sinkCount + ringCount }

    public func keptStreamIndices(below limit: Int) -> [[[Int]]] {
        KVCacheSnapshot.keptStreamIndices(below: limit, fedCount: fedCount, sinks: sinks, window: window, shape: shape)
    }

    /// Dense caches never evict: double the ring, unrolled so the oldest slot sits first again.
    private func growRing() {
        let kvWidth = shape.keyValueWidth
        let newCapacity = ringCapacity * 2
        for buffer in keys + values {
            let old = Array(UnsafeBufferPointer(start: buffer.pointer, count: (sinks + ringCapacity) * kvWidth))
            buffer.reserve((sinks + newCapacity) * kvWidth)
            for slot in 0 ..< ringCount {
                let from = sinks + (ringStart + slot) % ringCapacity
                (buffer.pointer + (sinks + slot) * kvWidth).update(from: old, offset: from * kvWidth, count: kvWidth)
            }
        }
        var indices = Array(repeating: 0, count: sinks + newCapacity)
        for slot in 0 ..< sinks { indices[slot] = streamIndices[slot] }
        for slot in 0 ..< ringCount { indices[sinks + slot] = streamIndices[sinks + (ringStart + slot) % ringCapacity] }
        streamIndices = indices
        ringStart = 0
        ringCapacity = newCapacity
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    fileprivate func update(from array: [Float], offset: Int, count: Int) {
        array.withUnsafeBufferPointer { self.update(from: $0.baseAddress! + offset, count: count) }
    }
}
