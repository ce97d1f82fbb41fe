import Foundation

/// One CSV record and the line it starts on (1-based), for messages.
public struct CSVRecord: Sendable, Equatable {
    public let line: Int
    public let fields: [String]

    public init(line: Int, fields: [String]) {
        self.line = line
        self.fields = fields
    }
}

/// Splits RFC 4180 CSV into records as bytes arrive, so a large (e.g. decompressed) file can be read in
/// chunks of any size: quoted fields with `""` escapes, commas and line breaks inside quotes, LF, CRLF or
/// CR line ends. Blank lines are skipped. It works on UTF-8 bytes because the delimiters are ASCII, which
/// never occur inside a multi-byte sequence, and because a String's Characters would merge "\r\n" into one.
public struct CSVRecordReader: Sendable {
    public let path: String

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }
    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [String] = []
    private var line = 1
    private var recordLine = 1
    /// Set after a CR outside quotes: a following LF belongs to the same line end.
    private var afterCarriageReturn = false

    public init(path: String) {
        self.path = path
    }

    /// The records completed by `bytes`; the last, unterminated one waits for more bytes or `finish`.
    public mutating func read(_ bytes: some Sequence<UInt8>) throws(ReportError) -> [CSVRecord] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lineFeed = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        var records: [CSVRecord] = []
        for byte in bytes {
            if afterCarriageReturn {
                afterCarriageReturn = false
                if byte == lineFeed { continue }
            }
            let endsLine = byte == lineFeed || byte == carriageReturn
            switch state {
            case .fieldStart where byte == quote:
                state = .quoted
            case .fieldStart, .unquoted, .quoteInQuoted:
                if byte == comma {
                    endField()
                } else if endsLine {
                    if let record = endRecord() { records.append(record) }
                    line += 1
                    recordLine = line
                    afterCarriageReturn = byte == carriageReturn
                } else if state == .quoteInQuoted, byte == quote {
                    field.append(quote)
                    state = .quoted
                } else if state == .quoteInQuoted {
                    throw ReportError(path: path, reason: "line \(line): \(Self.describe(byte)) after a closing quote (expected a comma or a line end)")
                } else if byte == quote {
                    throw ReportError(path: path, reason: "line \(line): a quote inside an unquoted field (quote the field and double the quote)")
                } else {
                    field.append(byte)
                    state = .unquoted
                }
            case .quoted:
                if byte == quote {
                    state = .quoteInQuoted
                } else {
                    field.append(byte)
                    if byte == lineFeed { line += 1 }
                }
            }
        }
        return records
    }

    /// The last record when the input does not end with a line end.
    public mutating func finish() throws(ReportError) -> CSVRecord? {
        if state == .quoted {
            throw ReportError(path: path, reason: "line \(recordLine): a quoted field is not closed before the end of the file")
        }
        return endRecord()
    }

    private mutating func endField() {
        fields.append(String(decoding: field, as: UTF8.self))
        field.removeAll(keepingCapacity: true)
        state = .fieldStart
    }

    private mutating func endRecord() -> CSVRecord? {
        let isBlank = fields.isEmpty && field.isEmpty && state == .fieldStart
        guard !isBlank else { return nil }
        endField()
        defer { fields = [] }
        return CSVRecord(line: recordLine, fields: fields)
    }

    private static func describe(_ byte: UInt8) -> String {
        (0x21 ..< 0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : String(format: "byte 0x%02X", byte)
    }
}

/// A whole CSV file with a header row: columns looked up by name, every row as wide as the header.
public struct CSVTable: Sendable {
    public let path: String
    public let header: [String]
    public let rows: [[String]]
    /// The line each row starts on (1-based), for messages: a quoted field may span lines.
    public let rowLines: [Int]

    public init(text: String, path: String) throws(ReportError) {
        try self.init(bytes: text.utf8, path: path)
    }

    public init(contentsOfFile path: String) throws(ReportError) {
        try self.init(bytes: Self.readBytes(path), path: path)
    }

    private init(bytes: some Collection<UInt8>, path: String) throws(ReportError) {
        let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
        var reader = CSVRecordReader(path: path)
        var records = try reader.read(bytes.starts(with: byteOrderMark) ? bytes.dropFirst(3) : bytes.dropFirst(0))
        if let last = try reader.finish() { records.append(last) }
        guard let header = records.first?.fields else { throw ReportError(path: path, reason: "empty file: no header row") }
        for record in records.dropFirst() where record.fields.count != header.count {
            throw ReportError(path: path, reason: "line \(record.line): \(record.fields.count) fields, the header has \(header.count)")
        }
        self.path = path
        self.header = header
        rows = records.dropFirst().map(\.fields)
        rowLines = records.dropFirst().map(\.line)
    }

    /// The index of the first column named `name`.
    public func column(_ name: String) -> Int? {
        header.firstIndex(of: name)
    }

    /// The indices of `names`, in order; throws naming every one the header lacks.
    public func requiredColumns(_ names: [String]) throws(ReportError) -> [Int] {
        let missing = names.filter { column($0) == nil }
        guard missing.isEmpty else {
            throw ReportError(path: path, reason: "no column \(missing.joined(separator: ", ")) in the header \(header.joined(separator: ","))")
        }
        return names.compactMap(column)
    }

    static func readBytes(_ path: String) throws(ReportError) -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw ReportError(path: path, reason: "cannot read: " + String(cString: strerror(errno))) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            bytes += chunk[..<count]
            guard count == chunk.count else { break }
        }
        guard ferror(file) == 0 else { throw ReportError(path: path, reason: "cannot read: " + String(cString: strerror(errno))) }
        return bytes
    }
}
