import Foundation

/// A job's per-token log: plain CSV rows `doc,position,token,nll` with no header, appended as predictions come.
/// NLLs are written with Swift's shortest round-trip formatting, so reading a row back gives the same Double
/// and statistics rebuilt from the log equal those of the run that wrote it.
final class JobLog {
    let path: String
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: [UInt8] = []

    /// Opens the log keeping its first `keepingBytes` bytes (0: a new, empty log).
    init(path: String, keepingBytes: Int) throws(ReportError) {
        self.path = path
        // "a+" would create it but force every write to the end; "r+" needs it to exist.
        if !FileManager.default.fileExists(atPath: path), !FileManager.default.createFile(atPath: path, contents: nil) {
            throw ReportError(path: path, reason: "cannot create")
        }
        guard let file = fopen(path, "r+b") else { throw ReportError(path: path, reason: String(cString: strerror(errno))) }
        self.file = file
        var status = stat()
        guard fstat(fileno(file), &status) == 0, Int(status.st_size) >= keepingBytes, ftruncate(fileno(file), off_t(keepingBytes)) == 0,
              fseeko(file, off_t(keepingBytes), SEEK_SET) == 0 else {
            fclose(file)
            throw ReportError(path: path, reason: "shorter than its checkpoint says (\(keepingBytes) bytes)")
        }
        buffer.reserveCapacity(1 << 17)
    }

    deinit { fclose(file) }

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
