/// A cache configuration as written on the command line (METHOD.md §2).
public struct CacheConfig: Sendable, Equatable, CustomStringConvertible {
    public enum Policy: Sendable, Equatable {
        /// Never evict.
        case dense
        /// The first `sinks` fed tokens plus the `window` most recent; `sinkText`, when set, is fed `sinks`
        /// times before the stream and never scored.
        case sinkWindow(sinks: Int, window: Int, sinkText: String?)
        /// Every `stride` fed tokens, one pass from scratch over the last `length` fed tokens scores the
        /// last `stride` predictions.
        case recompute(length: Int, stride: Int)
    }

    /// The string as typed: it names the config in every output.
    public let text: String
    public let policy: Policy

    public var description: String { text }

    public init(_ text: String) throws(CacheConfigError) {
        self.text = text
        policy = try Self.parse(text)
    }

    private static func parse(_ text: String) throws(CacheConfigError) -> Policy {
        // Int("+4") parses; a config number must be plain digits.
        func isDigits(_ part: Substring) -> Bool { !part.isEmpty && part.allSatisfy { $0.isASCII && $0.isNumber } }
        func fail(_ reason: String) -> CacheConfigError { CacheConfigError(text: text, reason: reason) }
        if text == "dense" { return .dense }
        if text.hasPrefix("recompute:") {
            let spec = text.dropFirst("recompute:".count)
            let parts = spec.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2, isDigits(parts[0]), let length = Int(parts[0]), length > 0 else {
                throw fail("expected recompute:L or recompute:L/S with L a positive whole number")
            }
            guard parts.count == 2 else { return .recompute(length: length, stride: 1) }
            guard isDigits(parts[1]), let stride = Int(parts[1]), (1 ... length).contains(stride) else {
                throw fail("the stride S in recompute:L/S must be a whole number from 1 to L (\(length))")
            }
            return .recompute(length: length, stride: stride)
        }
        guard let plus = text.lastIndex(of: "+") else {
            throw fail("expected dense, x+y, x\"s\"+y, recompute:L or recompute:L/S")
        }
        var head = Substring(text[..<plus])
        let tail = text[text.index(after: plus)...]
        var sinkText: String?
        if let quote = head.firstIndex(of: "\"") {
            guard head.last == "\"", head.index(after: quote) < head.endIndex,
                  quote != head.index(before: head.endIndex) else {
                throw fail("a sink string must be quoted, as in 4\"\\n\"+1020")
            }
            let quoted = head[head.index(after: quote) ..< head.index(before: head.endIndex)]
            sinkText = try unescape(quoted, in: text)
            guard sinkText?.isEmpty == false else { throw fail("the sink string is empty") }
            head = head[..<quote]
        }
        guard isDigits(head), let sinks = Int(head) else {
            throw fail("the sink count x in x+y must be a whole number >= 0, found '\(head)'")
        }
        guard isDigits(tail), let window = Int(tail), window >= 1 else {
            throw fail("the window y in x+y must be a whole number >= 1, found '\(tail)'")
        }
        if sinkText != nil, sinks == 0 { throw fail("a sink string needs at least one sink") }
        // Checked here once, so that no later size computed from x + y can wrap (release builds use -Ounchecked).
        guard !sinks.addingReportingOverflow(window).overflow else { throw fail("x + y is more tokens than a 64-bit count holds") }
        return .sinkWindow(sinks: sinks, window: window, sinkText: sinkText)
    }

    /// Backslash escapes in a quoted sink string: \n \t \r \\ \" and \u{XXXX}.
    private static func unescape(_ quoted: Substring, in text: String) throws(CacheConfigError) -> String {
        var result = ""
        var characters = quoted.makeIterator()
        while let character = characters.next() {
            guard character == "\\" else { result.append(character); continue }
            switch characters.next() {
            case "n": result.append("\n")
            case "t": result.append("\t")
            case "r": result.append("\r")
            case "\\": result.append("\\")
            case "\"": result.append("\"")
            case "u":
                var hex = ""
                guard characters.next() == "{" else { throw CacheConfigError(text: text, reason: "expected \\u{XXXX} in the sink string") }
                var closed = false
                while let digit = characters.next() {
                    if digit == "}" { closed = true; break }
                    hex.append(digit)
                }
                guard closed, let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else {
                    throw CacheConfigError(text: text, reason: "\\u{\(hex)} is not a Unicode scalar")
                }
                result.unicodeScalars.append(scalar)
            default:
                throw CacheConfigError(text: text, reason: "unknown escape in the sink string; use \\n \\t \\r \\\\ \\\" or \\u{XXXX}")
            }
        }
        return result
    }
}

public struct CacheConfigError: Error, CustomStringConvertible, Equatable {
    public let text: String
    public let reason: String
    public var description: String { "invalid cache config '\(text)': \(reason)" }
}
