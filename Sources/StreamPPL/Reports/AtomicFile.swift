import Foundation

/// Writes a whole file next to its destination and renames it into place, so a reader never sees half of it.
public enum AtomicFile {
    public static func write(_ text: String, to path: String) throws(ReportError) {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
            throw ReportError(path: path, reason: "cannot create \(temporary)")
        }
        try rename(temporary, to: path)
    }

    static func rename(_ temporary: String, to path: String) throws(ReportError) {
        guard Foundation.rename(temporary, path) == 0 else {
            throw ReportError(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
