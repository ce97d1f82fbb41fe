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
/// then values as Float32 in the machine's byte order (little-endian on every platform streamppl builds for), layer by
/// layer, rows in slot order, and a CRC-32 of everything before it.
struct JobCheckpoint: Equatable {
    var state: EvaluationState
    /// Bytes of the job's log holding exactly the predictions made up to this state.
    var logBytes: Int
    var seconds: Double
    var memory: [MemorySample]
    /// CRC-32 of those `logBytes` bytes, so that a log changed after the checkpoint (a digit edited, rows swapped,
    /// another job's checkpoint copied in) is caught on resume instead of silently giving other numbers.
    /// Nil only in checkpoints written before it was recorded.
    var logCRC32: UInt32? = nil

    private static let magic = Array("SPPLCKP1".utf8)

    private struct Header: Codable {
        var stream: TokenStream.Position
        var logBytes: Int
        var logCRC32: UInt32?
        var seconds: Double
        var memory: [MemorySample]
        var recomputeHistory: [Int32]?
        var fedCount: Int?
        var streamIndices: [Int]?
        /// Floats per layer in each of the key and value blocks.
        var layerFloats: [Int]?
        var keptByHead: [[Int]]?
        /// Exact in JSON: Swift writes the shortest text that reads back as the same Double.
        var scores: [[Double]]?
    }

    func write(to path: String) throws(ReportError) {
        let cache = state.cache
        let header = Header(stream: state.stream, logBytes: logBytes, logCRC32: logCRC32, seconds: seconds, memory: memory,
                            recomputeHistory: state.recomputeHistory, fedCount: cache?.fedCount, streamIndices: cache?.streamIndices,
                            layerFloats: cache?.keys.map(\.count), keptByHead: cache?.keptByHead, scores: cache?.scores)
        let json: Data
        do { json = try JSONEncoder().encode(header) } catch { throw ReportError(path: path, reason: "\(error)") }
        // Block by block, never the whole file in memory: a dense cache of 100K tokens is over 4 GB.
        try DurableFile.write(to: path) { append in
            var crc = UInt32(crc32(0, nil, 0))
            func add(_ bytes: UnsafeRawBufferPointer) throws {
                crc = UInt32(crc32_z(UInt(crc), bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count))
                try append(bytes)
            }
            try Self.magic.withUnsafeBytes(add)
            try withUnsafeBytes(of: UInt64(json.count).littleEndian, add)
            try json.withUnsafeBytes(add)
            for layer in (cache?.keys ?? []) + (cache?.values ?? []) { try layer.withUnsafeBytes(add) }
            try withUnsafeBytes(of: crc.littleEndian, append)
        }
    }

    /// The checkpoint at `path`, or nil when there is none; a damaged one is an error naming the file.
    static func read(from path: String) throws(ReportError) -> JobCheckpoint? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ReportError(path: path, reason: "cannot read") }
        defer { try? handle.close() }
        func damaged(_ why: String) -> ReportError { ReportError(path: path, reason: "damaged checkpoint: \(why)") }
        var crc = UInt32(crc32(0, nil, 0))
        func read(_ count: Int, checked: Bool = true) throws(ReportError) -> Data {
            guard let data = try? handle.read(upToCount: count), data.count == count else { throw damaged("shorter than its header says") }
            if checked { data.withUnsafeBytes { crc = UInt32(crc32_z(UInt(crc), $0.baseAddress?.assumingMemoryBound(to: UInt8.self), $0.count)) } }
            return data
        }
        guard [UInt8](try read(magic.count)) == magic else { throw damaged("not a streamppl checkpoint") }
        let jsonCount = try read(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        guard jsonCount < 1 << 30 else { throw damaged("header length \(jsonCount)") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: try read(jsonCount)) } catch let error as ReportError { throw error } catch {
            throw damaged("bad header: \(error)")
        }
        var cache: KVCacheSnapshot?
        if let fedCount = header.fedCount, let indices = header.streamIndices, let layerFloats = header.layerFloats {
            func block() throws(ReportError) -> [[Float]] {
                var layers: [[Float]] = []
                for count in layerFloats {
                    guard count >= 0, count < 1 << 34 else { throw damaged("layer of \(count) floats") }
                    let data = try read(count * 4)
                    layers.append(data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
                }
                return layers
            }
            let keys = try block()
            cache = KVCacheSnapshot(fedCount: fedCount, streamIndices: indices, keys: keys, values: try block(),
                                    keptByHead: header.keptByHead, scores: header.scores)
        }
        let stored = try read(4, checked: false).withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        guard stored == crc else { throw damaged("checksum mismatch") }
        guard (try? handle.read(upToCount: 1))?.isEmpty ?? true else { throw damaged("longer than its header says") }
        return JobCheckpoint(state: EvaluationState(stream: header.stream, cache: cache, recomputeHistory: header.recomputeHistory),
                             logBytes: header.logBytes, seconds: header.seconds, memory: header.memory, logCRC32: header.logCRC32)
    }
}
