import CZlib
import Foundation

/// A job's per-token log: plain CSV rows `doc,position,token,nll` with no header, appended as predictions come.
/// NLLs are written with Swift's shortest round-trip formatting, so reading a row back gives the same Double
/// and statistics rebuilt from the log equal those of the run that wrote it.
final class JobLog {
    let path: String
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: [UInt8] = []
    /// CRC-32 of every byte of the log so far, written or kept: what a checkpoint vouches for (`JobCheckpoint`).
    private(set) var checksum: UInt32

    /// Opens the log keeping its first `keepingBytes` bytes (0: a new, empty log).
    init(path: String, keepingBytes: Int) throws(ReportError) {
        self.path = path
        // "a+" would create it but force every write to the end; "r+" needs it to exist.
        if !FileManager.default.fileExists(atPath: path), !FileManager.default.createFile(atPath: path, contents: nil) {
            throw ReportError(path: path, reason: "cannot create")
        }
        guard let file = fopen(path, "r+b") else { throw ReportError(path: path, reason: String(cString: strerror(errno))) }
        // Closed here on failure and not by deinit: a class whose init throws before every stored property is set
        // is never deinitialized, so `self.file` is only set once nothing can fail.
        var status = stat()
        guard fstat(fileno(file), &status) == 0, Int(status.st_size) >= keepingBytes, ftruncate(fileno(file), off_t(keepingBytes)) == 0,
              let kept = Self.checksum(of: file, bytes: keepingBytes), fseeko(file, off_t(keepingBytes), SEEK_SET) == 0 else {
            fclose(file)
            throw ReportError(path: path, reason: "shorter than its checkpoint says (\(keepingBytes) bytes)")
        }
        self.file = file
        checksum = kept
        buffer.reserveCapacity(1 << 17)
    }

    deinit { fclose(file) }

    /// CRC-32 of the first `count` bytes of `file`, read from its start; nil when it holds fewer.
    private static func checksum(of file: UnsafeMutablePointer<FILE>, bytes count: Int) -> UInt32? {
        guard fseeko(file, 0, SEEK_SET) == 0 else { return nil }
        var crc = UInt32(crc32(0, nil, 0))
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var remaining = count
        while remaining > 0 {
            let read = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, min($0.count, remaining), file) }
            guard read > 0 else { return nil }
            crc = chunk.withUnsafeBytes { UInt32(crc32_z(UInt(crc), $0.baseAddress?.assumingMemoryBound(to: UInt8.self), read)) }
            remaining -= read
        }
        return crc
    }

    /// CRC-32 and length of the whole file at `path`, nil when it cannot be read: a finished job's log checked
    /// against its `result.json`.
    static func checksum(ofFileAt path: String) -> (bytes: Int, crc32: UInt32)? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var status = stat()
        guard fstat(fileno(file), &status) == 0, let crc = checksum(of: file, bytes: Int(status.st_size)) else { return nil }
        return (Int(status.st_size), crc)
    }

    func append(_ prediction: Prediction) throws(ReportError) {
        try append(row: "\(prediction.document),\(prediction.position),\(prediction.token),\(prediction.nll)")
    }

    /// Appends a row as written before (`merge` splits a run's log back into its jobs' logs).
    func append(row: String) throws(ReportError) {
        buffer.append(contentsOf: row.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes everything appended through to the disk; returns the log's length in bytes.
    func sync() throws(ReportError) -> Int {
        try flush()
        guard fflush(file) == 0, fsync(fileno(file)) == 0 else { throw ReportError(path: path, reason: String(cString: strerror(errno))) }
        return Int(ftello(file))
    }

    private func flush() throws(ReportError) {
        guard !buffer.isEmpty else { return }
        let written = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == buffer.count else { throw ReportError(path: path, reason: "short write (disk full?)") }
        checksum = buffer.withUnsafeBytes { UInt32(crc32_z(UInt(checksum), $0.baseAddress?.assumingMemoryBound(to: UInt8.self), $0.count)) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with each whole row (without its newline) and its NLL, at most `limit` rows.
    static func forEachRow(of path: String, limit: Int = .max, _ body: (ArraySlice<UInt8>, Double) throws -> Void) throws {
        guard limit > 0, let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        var pending: [UInt8] = []
        var rows = 0
        while rows < limit, let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            pending += chunk
            var start = pending.startIndex
            while rows < limit, let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let row = pending[start ..< newline]
                guard let comma = row.lastIndex(of: UInt8(ascii: ",")),
                      let nll = Double(String(decoding: row[(comma + 1)...], as: UTF8.self)) else {
                    throw ReportError(path: path, reason: "row \(rows + 1) is not doc,position,token,nll")
                }
                try body(row, nll)
                rows += 1
                start = newline + 1
            }
            pending.removeSubrange(..<start)
        }
    }
}
