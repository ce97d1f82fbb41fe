import Foundation

/// One `key = value` line of a TOML document.
struct TOMLEntry: Equatable {
    let key: String
    let value: ConfigurationValue
    /// 1-based line of the key.
    let line: Int
}

/// Why a TOML document was rejected, at the 1-based line where reading stopped.
struct TOMLError: Error, Equatable {
    let line: Int
    let reason: String
}

/// The flat subset of TOML 1.0 (toml.io/en/v1.0.0) that a run file needs: top-level `key = value` lines with bare
/// or quoted keys, single-line basic and literal strings, decimal integers and floats, booleans and arrays.
/// Everything else (tables, dotted keys, inline tables, multi-line strings, dates, hex/octal/binary, inf/nan) is
/// rejected with the line it is on rather than half-supported.
struct TOMLParser {
    private let scalars: [Unicode.Scalar]
    private var index = 0
    private var line = 1

    static func parse(_ text: String) throws(TOMLError) -> [TOMLEntry] {
        var parser = TOMLParser(scalars: Array(text.unicodeScalars))
        return try parser.document()
    }

    private init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    private var next: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    private func fail(_ reason: String) -> TOMLError { TOMLError(line: line, reason: reason) }

    private mutating func document() throws(TOMLError) -> [TOMLEntry] {
        var entries: [TOMLEntry] = []
        var lineOfKey: [String: Int] = [:]
        while true {
            skipSpaces()
            switch next {
            case nil:
                return entries
            case "\n", "\r", "#":
                try endOfLine()
            case "[":
                throw fail("tables are not supported ([section]); write every key at the top level")
            default:
                let keyLine = line
                let key = try key()
                if let first = lineOfKey[key] { throw fail("key '\(key)' is already set on line \(first)") }
                lineOfKey[key] = keyLine
                skipSpaces()
                guard next == "=" else { throw fail("expected '=' after the key '\(key)', found \(describe(next))") }
                index += 1
                skipSpaces()
                let value = try value()
                try endOfLine()
                entries.append(TOMLEntry(key: key, value: value, line: keyLine))
            }
        }
    }

    private mutating func key() throws(TOMLError) -> String {
        let key: String
        switch next {
        case "\"": key = try basicString()
        case "'": key = try literalString()
        default:
            let start = index
            while let scalar = next, Self.isBareKey(scalar) { index += 1 }
            guard index > start else { throw fail("expected a key, found \(describe(next))") }
            key = String(String.UnicodeScalarView(scalars[start ..< index]))
        }
        skipSpaces()
        if next == "." { throw fail("dotted keys are not supported; write flat keys such as max-tokens") }
        return key
    }

    private static func isBareKey(_ scalar: Unicode.Scalar) -> Bool {
        ("A" ... "Z").contains(scalar) || ("a" ... "z").contains(scalar) || ("0" ... "9").contains(scalar)
            || scalar == "_" || scalar == "-"
    }

    private mutating func value() throws(TOMLError) -> ConfigurationValue {
        switch next {
        case "\"", "'":
            let quote = scalars[index]
            if index + 2 < scalars.count, scalars[index + 1] == quote, scalars[index + 2] == quote {
                throw fail("multi-line strings are not supported")
            }
            return .string(quote == "\"" ? try basicString() : try literalString())
        case "[":
            return try array()
        case "{":
            throw fail("inline tables are not supported")
        default:
            let start = index
            while let scalar = next, !" \t\r\n,]#".unicodeScalars.contains(scalar) { index += 1 }
            let token = String(String.UnicodeScalarView(scalars[start ..< index]))
            guard !token.isEmpty else { throw fail("expected a value, found \(describe(next))") }
            switch token {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return try number(token)
            }
        }
    }

    /// A decimal integer or float: digits may be grouped by single underscores, no leading zeros (TOML 1.0).
    private func number(_ token: String) throws(TOMLError) -> ConfigurationValue {
        var unsigned = Substring(token)
        if unsigned.first == "+" || unsigned.first == "-" { unsigned.removeFirst() }
        let exponentMark = unsigned.firstIndex { $0 == "e" || $0 == "E" }
        let mantissa = unsigned[..<(exponentMark ?? unsigned.endIndex)]
        let dot = mantissa.firstIndex(of: ".")
        let whole = mantissa[..<(dot ?? mantissa.endIndex)]
        let fraction = dot.map { mantissa[mantissa.index(after: $0)...] }
        var exponent = exponentMark.map { unsigned[unsigned.index(after: $0)...] }
        if exponent?.first == "+" || exponent?.first == "-" { exponent?.removeFirst() }
        guard Self.isDigitGroup(whole), fraction.map(Self.isDigitGroup) ?? true, exponent.map(Self.isDigitGroup) ?? true else {
            throw fail("'\(token)' is not a value: expected a quoted string, a number, true, false or an array")
        }
        guard whole.count == 1 || whole.first != "0" else { throw fail("leading zeros are not allowed, found '\(token)'") }
        let digits = token.filter { $0 != "_" }
        if fraction == nil, exponent == nil {
            guard let integer = Int(digits) else { throw fail("'\(token)' is out of range for an integer") }
            return .integer(integer)
        }
        guard let double = Double(digits), double.isFinite else { throw fail("'\(token)' is out of range for a float") }
        return .double(double)
    }

    private static func isDigitGroup(_ text: Substring) -> Bool {
        guard let first = text.first, let last = text.last, first.isASCII, first.isNumber, last.isASCII, last.isNumber else {
            return false
        }
        return text.allSatisfy { $0 == "_" || ($0.isASCII && $0.isNumber) } && !text.contains("__")
    }

    private mutating func array() throws(TOMLError) -> ConfigurationValue {
        let openLine = line
        index += 1
        var items: [ConfigurationValue] = []
        while true {
            try skipBlankLines()
            if next == "]" { index += 1; return .array(items) }
            guard next != nil else { throw fail("the array opened on line \(openLine) is not closed") }
            items.append(try value())
            try skipBlankLines()
            switch next {
            case ",": index += 1
            case "]": index += 1; return .array(items)
            case nil: throw fail("the array opened on line \(openLine) is not closed")
            default: throw fail("expected ',' or ']' in the array, found \(describe(next))")
            }
        }
    }

    private mutating func basicString() throws(TOMLError) -> String {
        index += 1
        var text = String.UnicodeScalarView()
        while true {
            let scalar = try stringScalar()
            switch scalar {
            case "\"": return String(text)
            case "\\": text.append(try escape())
            default: text.append(scalar)
            }
        }
    }

    /// `'...'`: every character stands for itself, so a cache config such as 4"\n"+1020 needs no escaping.
    private mutating func literalString() throws(TOMLError) -> String {
        index += 1
        var text = String.UnicodeScalarView()
        while true {
            let scalar = try stringScalar()
            if scalar == "'" { return String(text) }
            text.append(scalar)
        }
    }

    /// The next scalar inside a single-line string; the line must not end first.
    private mutating func stringScalar() throws(TOMLError) -> Unicode.Scalar {
        guard let scalar = next, scalar != "\n", scalar != "\r" else { throw fail("the string is not closed on this line") }
        guard !Self.isControl(scalar) else { throw fail("\(describe(scalar)) inside a string; write it as an escape such as \\t") }
        index += 1
        return scalar
    }

    private mutating func escape() throws(TOMLError) -> Unicode.Scalar {
        let letter = try stringScalar()
        switch letter {
        case "b": return "\u{8}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{C}"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        case "u": return try hexScalar(digits: 4)
        case "U": return try hexScalar(digits: 8)
        default: throw fail("unknown escape '\\\(letter)'; use \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX or \\UXXXXXXXX")
        }
    }

    private mutating func hexScalar(digits: Int) throws(TOMLError) -> Unicode.Scalar {
        let letter = digits == 4 ? "u" : "U"
        var hex = ""
        while hex.count < digits, let scalar = next, scalar.properties.isASCIIHexDigit {
            hex.unicodeScalars.append(scalar)
            index += 1
        }
        guard hex.count == digits else { throw fail("expected \(digits) hex digits after \\\(letter), found '\(hex)'") }
        guard let scalar = UInt32(hex, radix: 16).flatMap(Unicode.Scalar.init) else {
            throw fail("\\\(letter)\(hex) is not a Unicode scalar value")
        }
        return scalar
    }

    private mutating func skipSpaces() {
        while next == " " || next == "\t" { index += 1 }
    }

    /// Spaces, comments and line breaks, as allowed between array items.
    private mutating func skipBlankLines() throws(TOMLError) {
        while true {
            skipSpaces()
            if next == "#" { try comment() }
            guard lineBreak() else { return }
        }
    }

    /// After a value: optional spaces and comment, then a line break or the end of the file.
    private mutating func endOfLine() throws(TOMLError) {
        skipSpaces()
        if next == "#" { try comment() }
        guard next == nil || lineBreak() else { throw fail("expected the end of the line, found \(describe(next))") }
    }

    private mutating func comment() throws(TOMLError) {
        while let scalar = next, scalar != "\n", scalar != "\r" {
            guard !Self.isControl(scalar) else { throw fail("\(describe(scalar)) inside a comment") }
            index += 1
        }
    }

    /// Consumes `\n` or `\r\n`; a lone `\r` is not a line break in TOML.
    private mutating func lineBreak() -> Bool {
        if next == "\n" {
            index += 1
        } else if next == "\r", index + 1 < scalars.count, scalars[index + 1] == "\n" {
            index += 2
        } else {
            return false
        }
        line += 1
        return true
    }

    /// TOML forbids raw control characters other than tab in strings and comments.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F
    }

    private func describe(_ scalar: Unicode.Scalar?) -> String {
        guard let scalar else { return "the end of the file" }
        if scalar == "\n" { return "the end of the line" }
        if Self.isControl(scalar) || scalar.properties.isWhitespace {
            return String(format: "U+%04X", scalar.value)
        }
        return "'\(scalar)'"
    }
}
