/// Exact-bytes lookup from a token's text to its id.
///
/// A `[String: Int]` is not usable here: Swift compares strings by canonical equivalence, so "é"
/// (U+00E9) and "e" + U+0301 would be the same key although they are different tokens with different
/// bytes. This open-addressing table compares raw UTF-8 bytes and looks up slices of a buffer
/// without allocating.
struct TokenTextIndex: Sendable {
    /// All texts back to back; text `i` is `storage[starts[i] ..< starts[i + 1]]`.
    private var storage: [UInt8] = []
    private var starts: [Int] = [0]
    /// Hash slots holding an id, or -1 when empty. Kept at most half full.
    private var slots: [Int32]
    private let slotMask: Int

    init(expectedCount: Int) {
        var capacity = 16
        while capacity < expectedCount * 2 { capacity <<= 1 }
        slots = [Int32](repeating: -1, count: capacity)
        slotMask = capacity - 1
    }

    var count: Int { starts.count - 1 }

    /// Adds `text` under the next id (`count`). Returns the id that already has these bytes instead
    /// (and adds nothing) when there is one.
    mutating func append(_ text: some Sequence<UInt8>) -> Int32? {
        let start = storage.count
        storage.append(contentsOf: text)
        let end = storage.count
        let hash = storage.withUnsafeBufferPointer { Self.hash(UnsafeBufferPointer(rebasing: $0[start ..< end])) }
        var slot = hash & slotMask
        while slots[slot] >= 0 {
            let other = Int(slots[slot])
            if storage[starts[other] ..< starts[other + 1]].elementsEqual(storage[start ..< end]) {
                storage.removeSubrange(start ..< end)
                return Int32(other)
            }
            slot = (slot + 1) & slotMask
        }
        slots[slot] = Int32(count)
        starts.append(end)
        return nil
    }

    func id(of text: UnsafeBufferPointer<UInt8>) -> Int32? {
        var slot = Self.hash(text) & slotMask
        return storage.withUnsafeBufferPointer { stored in
            while true {
                let candidate = slots[slot]
                if candidate < 0 { return nil }
                let start = starts[Int(candidate)], end = starts[Int(candidate) + 1]
                if end - start == text.count, memoryEqual(stored, start, text) { return candidate }
                slot = (slot + 1) & slotMask
            }
        }
    }

    func id(of text: [UInt8]) -> Int32? {
        text.withUnsafeBufferPointer { id(of: $0) }
    }

    func bytes(of id: Int) -> ArraySlice<UInt8> {
        storage[starts[id] ..< starts[id + 1]]
    }

    private func memoryEqual(_ stored: UnsafeBufferPointer<UInt8>, _ start: Int, _ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index < text.count {
            if stored[start + index] != text[index] { return false }
            index += 1
        }
        return true
    }

    /// FNV-1a, 64-bit: simple, and good enough spread for short texts.
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        return Int(truncatingIfNeeded: value ^ (value >> 29))
    }
}
