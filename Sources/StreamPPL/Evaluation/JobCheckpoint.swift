import CZlib
import Foundation

/// Resident memory at one point of a job's stream (`memory.csv`).
public struct MemorySample: Sendable, Equatable, Codable {
    public let predictions: Int
    public let residentBytes: Int

    public init(predictions: Int, residentBytes: Int) {
        self.predictions = predictions
        self.residentBytes = residentBytes
    }
}

/// A job's progress at a pass boundary: the evaluation state plus how much of its log belongs to it.
/// Saved atomically (temporary file, fsync, rename) so that a run killed at any point, even by power loss,
/// continues from the last one written (`run --resume`).
///
/// File layout: the magic `SPPLCKP1`, a UInt64 length and that many bytes of JSON (`Header`), the cache's keys
/// then values as little-endian Float32 (layer by layer, rows in slot order), and a CRC-32 of everything before it.
struct JobCheckpoint: Equatable {
    var state: EvaluationState
    /// Bytes of the job's log holding exactly the predictions made up to this state.
    var logBytes: Int
    var seconds: Double
    var memory: [MemorySample]

    private static let magic = Array("SPPLCKP1".utf8)

    private struct Header: Codable {
        var stream: TokenStream.Position
        var logBytes: Int
        var seconds: Double
        var memory: [MemorySample]
        var recomputeHistory: [Int32]?
        var fedCount: Int?
        var streamIndices: [Int]?
        /// Floats per layer in each of the key and value blocks.
        var layerFloats: [Int]?
    }

    func write(to path: String) throws(ReportError) {
        let cache = state.cache
        let header = Header(stream: state.stream, logBytes: logBytes, seconds: seconds, memory: memory,
                            recomputeHistory: state.recomputeHistory, fedCount: cache?.fedCount, streamIndices: cache?.streamIndices,
                            layerFloats: cache?.keys.map(\.count))
        var bytes = Self.magic
        let json: Data
        do { json = try JSONEncoder().encode(header) } catch { throw ReportError(path: path, reason: "\(error)") }
        Self.append(UInt64(json.count), to: &bytes)
        bytes += json
        for layer in (cache?.keys ?? []) + (cache?.values ?? []) {
            layer.withUnsafeBytes { bytes += $0 }
        }
        Self.append(Self.crc(bytes), to: &bytes)
        try DurableFile.write(bytes, to: path)
    }

    /// The checkpoint at `path`, or nil when there is none; a damaged one is an error naming the file.
    static func read(from path: String) throws(ReportError) -> JobCheckpoint? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw ReportError(path: path, reason: "cannot read") }
        let bytes = [UInt8](data)
        func damaged(_ why: String) -> ReportError { ReportError(path: path, reason: "damaged checkpoint: \(why)") }
        guard bytes.count >= magic.count + 12, Array(bytes[0 ..< magic.count]) == magic else { throw damaged("not a streamppl checkpoint") }
        let body = bytes.count - 4
        guard load(UInt32.self, from: bytes, at: body) == crc(bytes[0 ..< body]) else { throw damaged("checksum mismatch") }
        let jsonCount = Int(load(UInt64.self, from: bytes, at: magic.count))
        let jsonStart = magic.count + 8
        guard jsonCount <= body - jsonStart else { throw damaged("header length \(jsonCount) past the end") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(bytes[jsonStart ..< jsonStart + jsonCount])) } catch {
            throw damaged("bad header: \(error)")
        }
        var cache: KVCacheSnapshot?
        if let fedCount = header.fedCount, let indices = header.streamIndices, let layerFloats = header.layerFloats {
            var offset = jsonStart + jsonCount
            guard layerFloats.reduce(0, +) * 2 * 4 == body - offset else { throw damaged("cache size does not match its header") }
            func block() -> [[Float]] {
                layerFloats.map { count in
                    defer { offset += count * 4 }
                    return bytes.withUnsafeBytes { raw in (0 ..< count).map { raw.loadUnaligned(fromByteOffset: offset + $0 * 4, as: Float.self) } }
                }
            }
            let keys = block()
            cache = KVCacheSnapshot(fedCount: fedCount, streamIndices: indices, keys: keys, values: block())
        }
        return JobCheckpoint(state: EvaluationState(stream: header.stream, cache: cache, recomputeHistory: header.recomputeHistory),
                             logBytes: header.logBytes, seconds: header.seconds, memory: header.memory)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private static func load<T: FixedWidthInteger>(_: T.Type, from bytes: [UInt8], at offset: Int) -> T {
        T(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) })
    }

    private static func crc(_ bytes: some Collection<UInt8>) -> UInt32 {
        Array(bytes).withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
    }
}

/// Files that must survive a crash or power loss: written to a temporary name, synced, renamed, and the
/// folder synced, so the name points either to the old content or to all of the new.
enum DurableFile {
    static func write(_ bytes: [UInt8], to path: String) throws(ReportError) {
        let temporary = path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw ReportError(path: temporary, reason: String(cString: strerror(errno))) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + written, $0.count - written) }
            guard count > 0 else { break }
            written += count
        }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else { throw ReportError(path: temporary, reason: "short write (disk full?)") }
        try AtomicFile.rename(temporary, to: path)
        syncFolder(of: path)
    }

    static func syncFolder(of path: String) {
        let folder = open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent, O_RDONLY)
        guard folder >= 0 else { return }
        fsync(folder)
        close(folder)
    }
}
