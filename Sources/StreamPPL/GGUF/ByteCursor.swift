/// Reads little-endian GGUF primitives from a buffer, checking every length against the bytes that remain.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var offset = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    private mutating func take(_ count: Int, reading what: String) throws(GGUFError) -> Int {
        guard count >= 0, count <= bytes.count - offset else {
            throw .truncated(path: path, reading: what, offset: offset, needed: count, fileSize: bytes.count)
        }
        defer { offset += count }
        return offset
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: String) throws(GGUFError) -> T {
        let at = try take(MemoryLayout<T>.size, reading: what)
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
    }

    mutating func readFloat(_ what: String) throws(GGUFError) -> Float {
        Float(bitPattern: try read(UInt32.self, what))
    }

    mutating func readDouble(_ what: String) throws(GGUFError) -> Double {
        Double(bitPattern: try read(UInt64.self, what))
    }

    /// A count stored as uint64 that must also fit in the remaining bytes at `minimumBytesEach` per item,
    /// so a corrupt count fails here instead of allocating terabytes.
    mutating func readCount(_ what: String, minimumBytesEach: Int) throws(GGUFError) -> Int {
        let at = offset
        let raw = try read(UInt64.self, what)
        let remaining = bytes.count - offset
        guard raw <= UInt64(remaining / max(minimumBytesEach, 1)) else {
            let (needed, overflow) = Int(clamping: raw).multipliedReportingOverflow(by: max(minimumBytesEach, 1))
            throw .truncated(path: path, reading: "\(what) \(raw)", offset: at, needed: overflow ? Int.max : needed, fileSize: bytes.count)
        }
        return Int(raw)
    }

    mutating func readString(_ what: String) throws(GGUFError) -> String {
        let length = try readCount("length of \(what)", minimumBytesEach: 1)
        let at = try take(length, reading: what)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[at ..< at + length])
        guard let text = String(validating: slice, as: UTF8.self) else { throw .invalidString(path: path, offset: at) }
        return text
    }

    mutating func align(to alignment: Int) {
        offset = (offset + alignment - 1) / alignment * alignment
    }
}
