import CZlib
import Foundation

/// Why a dataset could not be read.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    case notFound(path: String)
    case empty(path: String)
    case unreadable(path: String, reason: String)
    case invalidUTF8(path: String, byteOffset: Int)
    case badJSONL(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case let .notFound(path): "\(path): no such file or folder"
        case let .empty(path): "\(path): no documents (a folder needs *.txt or *.txt.gz files; a .jsonl needs lines with a \"text\" field)"
        case let .unreadable(path, reason): "\(path): cannot read: \(reason)"
        case let .invalidUTF8(path, offset): "\(path): not valid UTF-8 (first bad byte near offset \(offset))"
        case let .badJSONL(path, line, reason): "\(path):\(line): \(reason)"
        }
    }
}

/// An ordered list of documents (METHOD.md §1): a folder of `*.txt`/`*.txt.gz` books in file-name order,
/// a `.jsonl` (or `.jsonl.gz`) file with one `text` per line, or a single text file. Texts are read one at a time,
/// byte for byte, when the evaluation reaches them. With `repeats` > 1 the documents come round again, numbered
/// on (document `k * count + i` is document `i`): a stream longer than the corpus, as the paper's 4M-token runs.
public struct Dataset: Sendable {
    public enum Source: Sendable, Equatable {
        case file(String)
        /// Line `line` (1-based) of a JSON Lines file, at `offset` with `length` bytes.
        case jsonlLine(path: String, line: Int, offset: Int, length: Int)
    }

    public let path: String
    /// The files the documents come from, in order (each once).
    public let files: [String]
    private let sources: [Source]
    /// A `.jsonl.gz` decompressed, since gzip cannot seek to a line; nil for a plain `.jsonl`, read line by line.
    private let inflatedJSONL: InflatedFile?
    /// How many times the documents are streamed.
    public let repeats: Int

    public var documentCount: Int { sources.count * repeats }

    public init(path: String, repeats: Int = 1) throws(DatasetError) {
        precondition(repeats >= 1, "a dataset is read at least once")
        self.path = path
        self.repeats = repeats
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .notFound(path: path) }
        if isDirectory.boolValue {
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
                throw .unreadable(path: path, reason: error.localizedDescription)
            }
            // Byte-wise order, so the book order does not depend on the locale.
            files = names.filter { $0.hasSuffix(".txt") || $0.hasSuffix(".txt.gz") }
                .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                .map { (path as NSString).appendingPathComponent($0) }
            sources = files.map(Source.file)
            inflatedJSONL = nil
        } else if path.hasSuffix(".jsonl.gz") {
            let inflated = InflatedFile(bytes: try Self.readBytes(path))
            files = [path]
            sources = try Self.jsonlLines(inflated.bytes, path: path)
            inflatedJSONL = inflated
        } else if path.hasSuffix(".jsonl") {
            files = [path]
            sources = try Self.jsonlLines(Self.readBytes(path), path: path)
            inflatedJSONL = nil
        } else {
            files = [path]
            sources = [.file(path)]
            inflatedJSONL = nil
        }
        guard !sources.isEmpty else { throw .empty(path: path) }
    }

    /// The text of document `index`, exactly as stored.
    public func text(ofDocument index: Int) throws(DatasetError) -> String {
        switch sources[index % sources.count] {
        case let .file(file):
            return try Self.decodeUTF8(Self.readBytes(file), path: file)
        case let .jsonlLine(file, line, offset, length):
            if let inflatedJSONL { return try Self.text(ofJSONLine: Data(inflatedJSONL.bytes[offset ..< offset + length]), path: file, line: line) }
            guard let handle = FileHandle(forReadingAtPath: file) else { throw .unreadable(path: file, reason: "cannot open") }
            defer { try? handle.close() }
            let bytes: Data
            do {
                try handle.seek(toOffset: UInt64(offset))
                bytes = try handle.read(upToCount: length) ?? Data()
            } catch { throw .unreadable(path: file, reason: "\(error)") }
            return try Self.text(ofJSONLine: bytes, path: file, line: line)
        }
    }

    /// A file's bytes, gunzipped when it ends in `.gz`.
    static func readBytes(_ path: String) throws(DatasetError) -> [UInt8] {
        guard path.hasSuffix(".gz") else {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .unreadable(path: path, reason: "permission denied or not a regular file")
            }
            return [UInt8](data)
        }
        guard let file = gzopen(path, "rb") else { throw .unreadable(path: path, reason: "cannot open") }
        defer { gzclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let read = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if read < 0 {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown error"
                throw .unreadable(path: path, reason: "gzip: \(message)")
            }
            if read == 0 { break }
            bytes.append(contentsOf: chunk[0 ..< Int(read)])
        }
        guard gzipEndedWhole(file) else { throw .unreadable(path: path, reason: "gzip data ends early (truncated file)") }
        return bytes
    }

    /// Whether a gzip file read to its end (`gzread` returned 0) ended after a whole stream. At the end of its
    /// input zlib reports Z_OK after a whole stream and Z_BUF_ERROR in the middle of one: a cut download or copy,
    /// which must not pass for a shorter book or log.
    static func gzipEndedWhole(_ file: gzFile) -> Bool {
        var code: Int32 = 0
        _ = gzerror(file, &code)
        return code == Z_OK
    }

    static func decodeUTF8(_ bytes: [UInt8], path: String) throws(DatasetError) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var offset = 0
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        decoding: while true {
            switch decoder.decode(&iterator) {
            case let .scalarValue(scalar): offset += UTF8.width(scalar)
            case .emptyInput: break decoding
            case .error: break decoding
            }
        }
        throw .invalidUTF8(path: path, byteOffset: offset)
    }

    /// Where each non-blank line of a JSON Lines file lies; every line is checked once here, so a bad
    /// line fails before any evaluation, and only its place is kept in memory.
    private static func jsonlLines(_ bytes: [UInt8], path: String) throws(DatasetError) -> [Source] {
        var sources: [Source] = []
        var start = 0, number = 0
        while start < bytes.count {
            number += 1
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            let line = Data(bytes[start ..< end])
            if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                _ = try text(ofJSONLine: line, path: path, line: number)
                sources.append(.jsonlLine(path: path, line: number, offset: start, length: end - start))
            }
            start = end + 1
        }
        return sources
    }

    private static func text(ofJSONLine line: Data, path: String, line number: Int) throws(DatasetError) -> String {
        _ = try decodeUTF8([UInt8](line), path: "\(path):\(number)")
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: line) } catch {
            throw .badJSONL(path: path, line: number, reason: "not valid JSON")
        }
        guard let text = (object as? [String: Any])?["text"] as? String else {
            throw .badJSONL(path: path, line: number, reason: "no string field \"text\"")
        }
        return text
    }
}

/// A decompressed file's bytes, shared by the copies of a `Dataset`.
private final class InflatedFile: Sendable {
    let bytes: [UInt8]
    init(bytes: [UInt8]) { self.bytes = bytes }
}
