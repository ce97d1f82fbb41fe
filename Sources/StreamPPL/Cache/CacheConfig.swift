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
        /// H2O (METHOD.md §2b): per layer and KV head, the `recent` most recent tokens and, of the others, the `heavy`
        /// that have received the most attention.
        case heavyHitters(heavy: Int, recent: Int)
        /// TOVA (METHOD.md §2b): per layer, at most `capacity` tokens; each step drops the one its query attends to least.
        case tova(capacity: Int)
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
        if text.hasPrefix("h2o:") {
            let parts = text.dropFirst("h2o:".count).split(separator: "+", omittingEmptySubsequences: false)
            guard parts.count == 2, isDigits(parts[0]), isDigits(parts[1]), let heavy = Int(parts[0]), let recent = Int(parts[1]) else {
                throw fail("expected h2o:H+R with H and R whole numbers (H heavy hitters, R recent tokens)")
            }
            guard !heavy.addingReportingOverflow(recent).overflow else { throw fail("H + R is more tokens than a 64-bit count holds") }
            guard heavy + recent >= 1 else { throw fail("h2o:H+R must keep at least one token") }
            return .heavyHitters(heavy: heavy, recent: recent)
        }
        if text.hasPrefix("tova:") {
            let spec = text.dropFirst("tova:".count)
            guard isDigits(spec), let capacity = Int(spec), capacity >= 1 else {
                throw fail("expected tova:N with N a whole number >= 1 (tokens kept per layer)")
            }
            return .tova(capacity: capacity)
        }
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
            throw fail("expected dense, x+y, x\"s\"+y, recompute:L, recompute:L/S, h2o:H+R or tova:N")
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

extension CacheConfig.Policy {
    /// Whether the policy decides from each step's attention, which only the token-by-token path computes.
    public var evictsByAttention: Bool {
        switch self {
        case .heavyHitters, .tova: true
        case .dense, .sinkWindow, .recompute: false
        }
    }

    /// The most tokens the cache keeps between two steps once it is full (nil: dense and re-computation, which keep no
    /// such budget).
    public var keptTokens: Int? {
        switch self {
        case let .sinkWindow(sinks, window, _): sinks + window
        case let .heavyHitters(heavy, recent): heavy + recent
        case let .tova(capacity): capacity
        case .dense, .recompute: nil
        }
    }
}

public struct CacheConfigError: Error, CustomStringConvertible, Equatable {
    public let text: String
    public let reason: String
    public var description: String { "invalid cache config '\(text)': \(reason)" }
}
