import Foundation

/// The per-token log of METHOD.md §4: `config,doc,position,token,nll`, gzip-compressed (`nll.csv.gz`) or plain
/// (`nll.csv`), with a last column `data` when the run covers several datasets. Built from the jobs' own logs
/// in job order; it goes to a `DurableFile.Writer` that `finish` commits into place, so a reader never sees half a
/// log. The same rows always give the same bytes (gzip header without a time stamp, fixed flush points), which
/// lets a merged or resumed run be compared byte for byte with a single uninterrupted one.
public final class NLLLog {
    public let path: String
    private let file: DurableFile.Writer
    private var buffer: [UInt8] = []

    public static func header(withData: Bool) -> String { "config,doc,position,token,nll" + (withData ? ",data" : "") + "\n" }

    public init(directory: String, compressed: Bool = true, withData: Bool = false) throws(ReportError) {
        path = (directory as NSString).appendingPathComponent(compressed ? "nll.csv.gz" : "nll.csv")
        file = try DurableFile.Writer(path: path, encoding: compressed ? .gzip(level: 6) : .plain)
        buffer.reserveCapacity(1 << 17)
        buffer.append(contentsOf: Self.header(withData: withData).utf8)
    }

    /// Appends a job-log row (`doc,position,token,nll`) under its config, and its dataset when given.
    public func append(configField: String, row: ArraySlice<UInt8>, dataField: String?) throws(ReportError) {
        buffer.append(contentsOf: configField.utf8)
        buffer.append(UInt8(ascii: ","))
        buffer.append(contentsOf: row)
        if let dataField {
            buffer.append(UInt8(ascii: ","))
            buffer.append(contentsOf: dataField.utf8)
        }
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Flushes and renames the log into place. Call once.
    public func finish() throws(ReportError) {
        try flush()
        try file.commit()
    }

    /// Removes the temporary file of a log that was never finished (the run failed before any result).
    public func discardIfUnfinished() {
        file.discard()
    }

    private func flush() throws(ReportError) {
        guard !buffer.isEmpty else { return }
        try file.append(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// RFC 4180 quoting: config strings like `4"\n"+1020` contain quotes.
    public static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
