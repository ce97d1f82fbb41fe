import CZlib
import Foundation

/// Files that must survive a crash or power loss, and that a reader must never see half of: each is written to a
/// temporary name of its own next to its destination (`NAME.tmp-XXXXXX`), synced, renamed into place, and the folder
/// synced, so the name points either to the old content or to all of the new. Every result, checkpoint and manifest
/// streamppl writes goes through here.
public enum DurableFile {
    /// Writes the whole of `text`.
    public static func write(_ text: String, to path: String) throws(ReportError) {
        try write(Array(text.utf8), to: path)
    }

    /// Writes the whole of `bytes`.
    public static func write(_ bytes: [UInt8], to path: String) throws(ReportError) {
        try write(to: path) { append in try bytes.withUnsafeBytes(append) }
    }

    /// Writes the file through `body`, which appends blocks of bytes: for files too large to hold in memory at once.
    public static func write(to path: String, _ body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws(ReportError) {
        let writer = try Writer(path: path)
        do {
            try body { bytes in try writer.append(bytes) }
        } catch {
            writer.discard()
            throw error as? ReportError ?? ReportError(path: path, reason: "\(error)")
        }
        try writer.commit()
    }

    /// A file written piece by piece (optionally gzip-compressed) that appears under its name only on `commit()`;
    /// until then, and for good after `discard()` or when dropped uncommitted, only its temporary file exists.
    public final class Writer {
        public enum Encoding: Sendable {
            case plain
            /// gzip at this level (1-9). zlib's gzip header carries no time stamp, so the same bytes appended in the
            /// same pieces always give the same file.
            case gzip(level: Int)
        }

        public let path: String
        /// Where the bytes are until `commit()`.
        public let temporaryPath: String
        private var descriptor: Int32
        private var gzipFile: gzFile?
        private var isOpen = true

        public init(path: String, encoding: Encoding = .plain) throws(ReportError) {
            self.path = path
            var template = Array((path + ".tmp-XXXXXX").utf8CString)
            descriptor = mkstemp(&template)
            temporaryPath = String(cString: template)
            guard descriptor >= 0 else { throw ReportError(path: path, reason: "cannot create a temporary file: " + Self.lastError) }
            if case let .gzip(level) = encoding {
                // zlib closes the descriptor it is given; it gets a duplicate so the file can still be synced after.
                let duplicate = dup(descriptor)
                gzipFile = duplicate >= 0 ? gzdopen(duplicate, "wb\(min(max(level, 1), 9))") : nil
                guard gzipFile != nil else {
                    if duplicate >= 0 { close(duplicate) }
                    discard()
                    throw ReportError(path: temporaryPath, reason: "cannot start gzip compression")
                }
            }
        }

        deinit { discard() }

        /// Appends `bytes` (compressed, for a gzip file).
        public func append(_ bytes: UnsafeRawBufferPointer) throws(ReportError) {
            guard isOpen else { throw ReportError(path: temporaryPath, reason: "written after it was committed or discarded") }
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            if let gzipFile {
                guard gzwrite(gzipFile, base, UInt32(bytes.count)) == Int32(bytes.count) else {
                    throw ReportError(path: temporaryPath, reason: "short write (disk full?)")
                }
                return
            }
            var written = 0
            while written < bytes.count {
                let count = Foundation.write(descriptor, base + written, bytes.count - written)
                guard count > 0 else { throw ReportError(path: temporaryPath, reason: "short write (disk full?): " + Self.lastError) }
                written += count
            }
        }

        public func append(_ bytes: [UInt8]) throws(ReportError) {
            // `withUnsafeBytes` rethrows untyped errors: the typed one is carried out of it by hand.
            var failure: ReportError?
            bytes.withUnsafeBytes { raw in
                do throws(ReportError) { try append(raw) } catch { failure = error }
            }
            if let failure { throw failure }
        }

        /// Ends the file, syncs it and renames it into place. Call once; on an error the temporary file is removed.
        public func commit() throws(ReportError) {
            guard isOpen else { throw ReportError(path: temporaryPath, reason: "committed after it was committed or discarded") }
            if let gzipFile {
                self.gzipFile = nil
                guard gzclose(gzipFile) == Z_OK else {
                    discard()
                    throw ReportError(path: temporaryPath, reason: "gzip close failed (disk full?)")
                }
            }
            guard fchmod(descriptor, 0o644) == 0, fsync(descriptor) == 0 else {
                let reason = "cannot sync: " + Self.lastError
                discard()
                throw ReportError(path: temporaryPath, reason: reason)
            }
            close(descriptor)
            isOpen = false
            guard rename(temporaryPath, path) == 0 else {
                let reason = Self.lastError
                unlink(temporaryPath)
                throw ReportError(path: path, reason: reason)
            }
            DurableFile.syncFolder(of: path)
        }

        /// Drops what was written: the temporary file goes, the destination stays as it was. Does nothing once committed.
        public func discard() {
            guard isOpen else { return }
            isOpen = false
            if let gzipFile { gzclose(gzipFile) }
            gzipFile = nil
            close(descriptor)
            unlink(temporaryPath)
        }

        private static var lastError: String { String(cString: strerror(errno)) }
    }

    /// Makes a rename in the folder of `path` durable. Best effort: some file systems cannot sync a folder.
    static func syncFolder(of path: String) {
        let folder = (path as NSString).deletingLastPathComponent
        let descriptor = Foundation.open(folder.isEmpty ? "." : folder, O_RDONLY)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
