/// One metadata value, typed as GGUF stores it (`gguf_type` 0...12).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array([GGUFValue])

    /// The value as an Int when it is an integer of any width that fits.
    public var intValue: Int? {
        switch self {
        case let .uint8(v): Int(v)
        case let .int8(v): Int(v)
        case let .uint16(v): Int(v)
        case let .int16(v): Int(v)
        case let .uint32(v): Int(v)
        case let .int32(v): Int(v)
        case let .uint64(v): Int(exactly: v)
        case let .int64(v): Int(exactly: v)
        default: nil
        }
    }

    public var floatValue: Float? {
        switch self {
        case let .float32(v): v
        case let .float64(v): Float(v)
        default: intValue.map(Float.init)
        }
    }

    public var stringValue: String? {
        if case let .string(s) = self { s } else { nil }
    }

    public var boolValue: Bool? {
        if case let .bool(b) = self { b } else { nil }
    }

    public var arrayValue: [GGUFValue]? {
        if case let .array(a) = self { a } else { nil }
    }

    /// A short rendering for `inspect`: arrays show their length and first elements.
    public var summary: String {
        switch self {
        case let .string(s): s.count > 60 ? "\"\(String(s.prefix(57)).escapingControlCharacters)...\"" : "\"\(s.escapingControlCharacters)\""
        case let .array(a):
            "[\(a.count) items: " + a.prefix(3).map(\.summary).joined(separator: ", ") + (a.count > 3 ? ", ..." : "") + "]"
        case let .bool(b): String(b)
        case let .float32(v): String(v)
        case let .float64(v): String(v)
        default: intValue.map(String.init) ?? "?"
        }
    }
}

extension String {
    /// The text with its control characters (line breaks, tabs, terminal escape sequences, U+2028...) written as
    /// `\n`, `\t`, `\u{1B}`: a key or name read from a file then prints as one line and cannot drive the terminal.
    public var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: \.isControlOrSeparator) else { return self }
        var result = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.isControlOrSeparator: result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

private extension Unicode.Scalar {
    /// C0 and C1 controls, DEL, and the line and paragraph separators.
    var isControlOrSeparator: Bool { value < 0x20 || (0x7F ... 0x9F).contains(value) || value == 0x2028 || value == 0x2029 }
}
