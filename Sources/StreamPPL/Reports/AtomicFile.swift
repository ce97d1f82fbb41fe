import Foundation

/// Writes a whole file next to its destination, syncs it and renames it into place, so a reader (or a run resumed
/// after a power cut) never sees half of it.
public enum AtomicFile {
    public static func write(_ text: String, to path: String) throws(ReportError) {
        try DurableFile.write(Array(text.utf8), to: path)
    }

    static func rename(_ temporary: String, to path: String) throws(ReportError) {
        guard Foundation.rename(temporary, path) == 0 else {
            throw ReportError(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
