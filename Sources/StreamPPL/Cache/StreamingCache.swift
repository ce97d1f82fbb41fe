import StreamPPLKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The chunked cache: attention sinks plus a rolling window (or everything, when `window` is nil),
/// evaluated many tokens per forward pass with the mask of METHOD.md §2 instead of one eviction per token.
///
/// A token's keys and values never change once computed, so feeding a chunk of tokens with each query
/// restricted to its own A(i) gives the token-by-token numbers (METHOD.md §3). Keys are stored before rotary
/// embedding; per pass, the window keys are rotated to their offset from the oldest key the chunk needs,
/// so the rotary angles depend on distances inside the cache, never on how far into the stream we are.
/// ALiBi's biases use the same two frames of positions as rotary.
public final class StreamingCache: ResumableCache {
    public let sinks: Int
    public let window: Int?
    public let positions: PositionMode
    /// Tokens fed so far (stream indices 0..<fedCount).
    public private(set) var fedCount = 0
    /// The lowest stream index the window may still hold (`makeRoom`); 0 while no room was made.
    public private(set) var windowFloor = 0

    private let shape: AttentionShape
    private let rotary: RotaryEmbedding
    private let local: LocalAttention?
    private let alibi: ALiBi?
    private let sinkKeys: [FloatBuffer]      // per layer (sinks, kvWidth)
    private let sinkValues: [FloatBuffer]
    private let windowKeys: [FloatBuffer]    // per layer (windowRows, kvWidth): stream indices windowBase..<fedCount
    private let windowValues: [FloatBuffer]
    private var windowBase: Int
    private(set) var windowRows = 0          // rows each window buffer can hold

    // The pass being fed: stream indices passStart..<passStart+passCount, window keys from passWindowStart.
    private var passStart = 0
    private var passCount = 0
    private var passWindowStart = 0
    private var visible: [VisibleKeys] = []
    private var visibleSinks: [Range<Int>] = []    // per query of the pass: its sink keys
    private var visibleWindow: [Range<Int>] = []   // per query of the pass: its keys among the pass's window keys
    private var localSinks: [Range<Int>] = []      // the same on local layers (empty without `local`)
    private var localWindow: [Range<Int>] = []
    private var sinkBias: AttentionSegment.PositionBias?     // the pass's ALiBi biases (nil without `alibi`)
    private var windowBias: AttentionSegment.PositionBias?

    // Scratch, reused across passes.
    private let rotatedWindowKeys = FloatBuffer()  // (window keys of the pass, kvWidth)
    private let rotatedSinkKeys = FloatBuffer()    // (sinks, kvWidth)
    private let windowQueries = FloatBuffer()      // (count, queryWidth)
    private let sinkQueries = FloatBuffer()        // (count, queryWidth)
    let scores = FloatBuffer()                     // (heads, count, window keys of the pass)
    private let sinkScores = FloatBuffer()         // (heads, count, sink keys of the pass)

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
        windowBase = sinks
        let sinkSize = max(sinks, 1) * shape.keyValueWidth
        sinkKeys = (0 ..< shape.layers).map { _ in FloatBuffer(capacity: sinkSize) }
        sinkValues = (0 ..< shape.layers).map { _ in FloatBuffer(capacity: sinkSize) }
        windowKeys = (0 ..< shape.layers).map { _ in FloatBuffer() }
        windowValues = (0 ..< shape.layers).map { _ in FloatBuffer() }
    }

    /// Forgets every token, keeping the allocations (re-computation starts each window from scratch).
    public func reset() {
        fedCount = 0
        windowFloor = 0
        windowBase = sinks
    }

    /// Evicts the oldest window tokens now so that the next `tokens` fit without another eviction: the sinks and the
    /// `window - tokens` most recent stay (none when `tokens` is the window or more). What the paper's streaming chat does
    /// before each prompt, for the prompt and its answer budget; a dense cache makes no room.
    public func makeRoom(for tokens: Int) {
        guard let window else { return }
        windowFloor = max(windowFloor, fedCount - max(0, window - tokens))
    }

    public func snapshot() -> KVCacheSnapshot {
        precondition(windowFloor == 0, "a cache that made room for a conversation is not checkpointed")
        let width = shape.keyValueWidth
        let kept = KVCacheSnapshot.keptIndices(fedCount: fedCount, sinks: sinks, window: window)
        let sinkRows = min(sinks, fedCount), windowCount = kept.count - sinkRows
        let windowStart = fedCount - windowCount
        func rows(_ sink: FloatBuffer, _ windowBuffer: FloatBuffer) -> [Float] {
            Array(UnsafeBufferPointer(start: sink.pointer, count: sinkRows * width))
                + Array(UnsafeBufferPointer(start: windowBuffer.pointer + (windowStart - windowBase) * width, count: windowCount * width))
        }
        return KVCacheSnapshot(fedCount: fedCount, streamIndices: kept,
                               keys: (0 ..< shape.layers).map { rows(sinkKeys[$0], windowKeys[$0]) },
                               values: (0 ..< shape.layers).map { rows(sinkValues[$0], windowValues[$0]) })
    }

    public var heldTokens: Int {
        let windowStart = max(sinks, window.map { fedCount - $0 } ?? 0, windowFloor)
        return min(sinks, fedCount) + max(0, fedCount - windowStart)
    }

    public func keptStreamIndices(below limit: Int) -> [[[Int]]] {
        KVCacheSnapshot.keptStreamIndices(below: limit, fedCount: fedCount, sinks: sinks, window: window, shape: shape)
    }

    public func restore(_ snapshot: KVCacheSnapshot) -> Bool {
        guard snapshot.fits(shape, sinks: sinks, window: window) else { return false }
        let width = shape.keyValueWidth
        let sinkRows = min(sinks, snapshot.fedCount)
        let windowCount = snapshot.streamIndices.count - sinkRows
        fedCount = snapshot.fedCount
        windowBase = snapshot.fedCount - windowCount
        for layer in 0 ..< shape.layers {
            for (buffers, source) in [((sinkKeys[layer], windowKeys[layer]), snapshot.keys[layer]),
                                      ((sinkValues[layer], windowValues[layer]), snapshot.values[layer])] {
                buffers.1.reserve(windowCount * width, doubling: false)
                source.withUnsafeBufferPointer { rows in
                    buffers.0.pointer.update(from: rows.baseAddress!, count: sinkRows * width)
                    buffers.1.pointer.update(from: rows.baseAddress! + sinkRows * width, count: windowCount * width)
                }
            }
        }
        windowRows = windowKeys[0].capacity / width
        return true
    }

    public func prepare(count: Int) {
        passStart = fedCount
        passCount = count
        visible = (0 ..< count).map { VisibleKeys(index: passStart + $0, sinks: sinks, window: window, floor: windowFloor) }
        passWindowStart = visible.first?.windowStart ?? sinks
        visibleSinks = visible.map { 0 ..< $0.sinkCount }
        visibleWindow = visible.map { keys in
            let first = keys.windowStart - passWindowStart
            return first ..< first + keys.windowCount
        }
        if let local {
            // A key is visible on a local layer when its position is above the query's minus the local window.
            localSinks = []
            localWindow = []
            for (keys, windowRange) in zip(visible, visibleWindow) {
                let lowest = local.lowestVisiblePosition(query: positions == .cache ? keys.queryRank : keys.index)
                localSinks.append(min(max(lowest, 0), keys.sinkCount) ..< keys.sinkCount)
                // Window key k sits at rank sinkCount + (k - windowStart) under cache positions, at k otherwise.
                let lowestIndex = positions == .cache ? keys.windowStart + lowest - keys.sinkCount : lowest
                let first = min(max(windowRange.lowerBound, lowestIndex - passWindowStart), windowRange.upperBound)
                localWindow.append(first ..< windowRange.upperBound)
            }
        }
        // Drop the window rows no query of this pass can see, then make room for the pass's own tokens.
        let end = passStart + count
        let neededRows = max(0, end - passWindowStart)
        if let alibi {
            // The positions rotary uses below: window keys and queries at their offsets from passWindowStart, sinks at
            // their own positions and each query at its rank (its stream index under original positions).
            windowBias = alibi.bias(queryPositions: visible.map { $0.index - passWindowStart }, keyPositions: Array(0 ..< neededRows))
            sinkBias = alibi.bias(queryPositions: visible.map { positions == .cache ? $0.queryRank : $0.index },
                                  keyPositions: Array(0 ..< min(sinks, end)))
        }
        if end - windowBase > windowRows {
            let keptRows = max(0, passStart - passWindowStart)
            let dropped = max(0, passWindowStart - windowBase)
            let width = shape.keyValueWidth
            let newRows = max(Self.windowRoom(neededRows: neededRows, passTokens: count), windowRows)
            for buffer in windowKeys + windowValues {
                if keptRows > 0, dropped > 0 {
                    memmove(buffer.pointer, buffer.pointer + dropped * width, keptRows * width * MemoryLayout<Float>.size)
                }
                buffer.reserve(newRows * width, preserving: keptRows * width, doubling: window == nil)
            }
            windowRows = windowKeys[0].capacity / width
            windowBase = max(passWindowStart, sinks)
        }
        rotary.reserve(positions: neededRows + sinks + 1)
        local?.rotary.reserve(positions: neededRows + sinks + 1)
        rotatedWindowKeys.reserve(neededRows * shape.keyValueWidth)
        rotatedSinkKeys.reserve(sinks * shape.keyValueWidth)
        windowQueries.reserve(count * shape.queryWidth)
        sinkQueries.reserve(count * shape.queryWidth)
        scores.reserve(shape.heads * count * neededRows)
        sinkScores.reserve(shape.heads * count * max(sinks, 1))
    }

    /// The window rows allocated for a pass of `passTokens` that needs `neededRows`: a slack of a quarter of the window
    /// (at least two passes), so compaction is rare but a large window does not double its memory.
    /// Saturates at Int.max, which a caller counting bytes then reports as too many.
    static func windowRoom(neededRows: Int, passTokens: Int) -> Int {
        let (rows, overflow) = neededRows.addingReportingOverflow(max(2 * passTokens, neededRows / 4))
        return overflow ? .max : rows
    }

    /// What a cache without a window (`dense`) has allocated once `tokens` are fed in passes of `passTokens`, as `prepare`
    /// grows it (each buffer to the pass's room, at least double, zero-filled and so resident): its window rows per layer,
    /// its scores buffer, and the most the scores held while one was copied into the next (old and new at once). For
    /// sizing a run before it starts.
    static func unboundedGrowth(after tokens: Int, passTokens: Int, heads: Int) -> (rows: Int, scoreFloats: Int, scorePeakFloats: Int) {
        var rows = 0, scoreFloats = 1, scorePeakFloats = 1, fed = 0
        while fed < tokens {
            let end = min(fed + passTokens, tokens), count = end - fed
            if end > rows { rows = max(windowRoom(neededRows: end, passTokens: count), 2 * rows) }
            if heads * count * end > scoreFloats {
                let grown = max(heads * count * end, 2 * scoreFloats)
                scorePeakFloats = max(scorePeakFloats, scoreFloats + grown)
                scoreFloats = grown
            }
            fed = end
        }
        return (rows, scoreFloats, scorePeakFloats)
    }

    public func commit(count: Int) {
        fedCount += count
    }

    public func attend(layer: Int, queries: UnsafeMutablePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                       count: Int, output: UnsafeMutablePointer<Float>) {
        let kvWidth = shape.keyValueWidth, qWidth = shape.queryWidth
        store(layer: layer, keys: keys, values: values, count: count)
        let isLocal = local?.isLocal(layer) ?? false
        let rotary = isLocal ? local!.rotary : self.rotary

        // Window keys of the pass at offsets 0..<windowKeyCount from passWindowStart.
        let windowKeyCount = max(0, passStart + count - passWindowStart)
        let windowKeySource = windowKeys[layer].pointer + (passWindowStart - windowBase) * kvWidth
        let windowValueSource = windowValues[layer].pointer + (passWindowStart - windowBase) * kvWidth
        let rotatedWindow = rotatedWindowKeys.pointer
        for row in 0 ..< windowKeyCount {
            rotary.rotate(windowKeySource + row * kvWidth, into: rotatedWindow + row * kvWidth, headCount: shape.keyValueHeads, position: row)
        }
        let sinkKeyCount = min(sinks, passStart + count)
        let rotatedSinks = rotatedSinkKeys.pointer
        for row in 0 ..< sinkKeyCount {
            rotary.rotate(sinkKeys[layer].pointer + row * kvWidth, into: rotatedSinks + row * kvWidth, headCount: shape.keyValueHeads, position: row)
        }
        // Each query twice: at its distance-preserving offset for the window keys, at its own position for the sinks.
        for (t, keysOfT) in visible.enumerated() {
            rotary.rotate(queries + t * qWidth, into: windowQueries.pointer + t * qWidth, headCount: shape.heads,
                          position: keysOfT.index - passWindowStart)
            if keysOfT.sinkCount > 0 {
                let position = positions == .cache ? keysOfT.queryRank : keysOfT.index
                rotary.rotate(queries + t * qWidth, into: sinkQueries.pointer + t * qWidth, headCount: shape.heads, position: position)
            }
        }

        let sinkSegment = AttentionSegment(queries: sinkQueries.pointer, keys: rotatedSinks, values: sinkValues[layer].pointer,
                                           count: sinkKeyCount, visible: isLocal ? localSinks : visibleSinks, probabilities: sinkScores.pointer, products: .vector,
                                           bias: sinkBias)
        let windowSegment = AttentionSegment(queries: windowQueries.pointer, keys: rotatedWindow, values: windowValueSource,
                                             count: windowKeyCount, visible: isLocal ? localWindow : visibleWindow, probabilities: scores.pointer, products: .matrix,
                                             bias: windowBias)
        Attention.attend([sinkSegment, windowSegment], rows: count, shape: shape, output: output)
    }

    private func store(layer: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, count: Int) {
        let width = shape.keyValueWidth
        for t in 0 ..< count {
            let index = passStart + t
            let (keyRow, valueRow) = index < sinks
                ? (sinkKeys[layer].pointer + index * width, sinkValues[layer].pointer + index * width)
                : (windowKeys[layer].pointer + (index - windowBase) * width, windowValues[layer].pointer + (index - windowBase) * width)
            keyRow.update(from: keys + t * width, count: width)
            valueRow.update(from: values + t * width, count: width)
        }
    }
}
