import Foundation

/// One setting's value in a configuration file; a JSON file and a TOML file saying the same thing read to equal values.
public enum ConfigurationValue: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case double(Double)
    case bool(Bool)
    case array([ConfigurationValue])

    /// The value as written in a file, strings quoted and escaped, so that a message stays on one line.
    public var description: String {
        switch self {
        case let .string(text): text.debugDescription
        case let .integer(value): String(value)
        case let .double(value): String(value)
        case let .bool(value): String(value)
        case let .array(items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// The two formats a settings file may be written in.
public enum ConfigurationFormat: String, CaseIterable, Sendable {
    /// A JSON object of settings, `{"key": value, ...}`.
    case json
    /// TOML `key = value` lines (the flat subset `TOMLParser` reads).
    case toml

    /// By the file's extension, in any case.
    public init(path: String) throws(ConfigurationError) {
        guard let format = Self(rawValue: (path as NSString).pathExtension.lowercased()) else {
            throw ConfigurationError(path: path, reason: "a configuration file must end in .json or .toml")
        }
        self = format
    }
}

/// A settings file (`streamppl run --config FILE`, `experiments/NAME.json`): flat settings named like the long flags
/// of `streamppl run`, as JSON or TOML, read to values by key with the line each is set on. What the values mean is
/// the schema's business (`SettingsSchema`); this reads the format and refuses keys the schema does not know and keys
/// set twice.
public struct ConfigurationFile: Sendable {
    public let path: String
    /// The settings by kebab-case key: `max_tokens` in the file is `max-tokens` here.
    public let values: [String: ConfigurationValue]
    /// The line each key is set on; messages about a value point at it.
    private let lines: [String: Int]

    /// Reads FILE, its format by its extension.
    public init(path: String, allowedKeys: Set<String>) throws(ConfigurationError) {
        let format = try ConfigurationFormat(path: path)
        try self.init(bytes: Self.readBytes(path), format: format, path: path, allowedKeys: allowedKeys)
    }

    /// Reads a file's bytes; `path` only names the file in messages. Any key outside `allowedKeys` (given in
    /// kebab-case) is an error naming it and the allowed ones, and so is a key set twice.
    public init(bytes: [UInt8], format: ConfigurationFormat, path: String, allowedKeys: Set<String>) throws(ConfigurationError) {
        self.path = path
        // Some editors start UTF-8 files with a byte order mark; it is not part of the document.
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        guard let text = String(bytes: body, encoding: .utf8) else { throw ConfigurationError(path: path, reason: "the file is not UTF-8 text") }
        let entries: [(key: String, value: ConfigurationValue, line: Int?)]
        switch format {
        case .json:
            entries = try Self.jsonEntries(body, path: path)
        case .toml:
            do {
                entries = try TOMLParser.parse(text).map { ($0.key, $0.value, $0.line) }
            } catch {
                throw ConfigurationError(path: path, line: error.line, reason: error.reason)
            }
        }
        var values: [String: ConfigurationValue] = [:]
        var lines: [String: Int] = [:]
        var spellings: [String: String] = [:]
        for (spelling, value, line) in entries {
            let key = Self.kebabCase(spelling)
            guard allowedKeys.contains(key) else {
                throw ConfigurationError(path: path, line: line,
                                         reason: "unknown key '\(spelling)'; allowed keys: \(allowedKeys.sorted().joined(separator: ", "))")
            }
            if let earlier = spellings[key] {
                let place = lines[key].map { " on line \($0)" } ?? ""
                throw ConfigurationError(path: path, line: line, reason: "'\(spelling)' sets \(key) again, already set as '\(earlier)'\(place)")
            }
            spellings[key] = spelling
            values[key] = value
            lines[key] = line
        }
        self.values = values
        self.lines = lines
    }

    /// The settings with where each is set, for `SettingsSchema.apply`.
    public var given: [String: GivenSetting] {
        Dictionary(uniqueKeysWithValues: values.map { key, value in
            (key, GivenSetting(value: value, origin: .file(path: path, line: lines[key])))
        })
    }

    private static func kebabCase(_ key: String) -> String { key.replacingOccurrences(of: "_", with: "-") }

    private static func readBytes(_ path: String) throws(ConfigurationError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigurationError(path: path, reason: "no such configuration file")
        }
        guard !isDirectory.boolValue else { throw ConfigurationError(path: path, reason: "is a directory, not a configuration file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationError(path: path, reason: "cannot read the file") }
        return [UInt8](data)
    }

    private static func jsonEntries(_ bytes: [UInt8], path: String) throws(ConfigurationError) -> [(key: String, value: ConfigurationValue, line: Int?)] {
        let document: Any
        do {
            document = try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
            throw ConfigurationError(path: path, reason: "not valid JSON: \(detail)")
        }
        guard let object = document as? [String: Any] else {
            throw ConfigurationError(path: path, reason: "the top level must be a JSON object of settings, {\"key\": value, ...}")
        }
        // JSONSerialization keeps the last of two equal keys without a word; the scan finds both.
        var lines: [String: Int] = [:]
        for (key, line) in topLevelKeys(bytes) {
            if let first = lines[key] { throw ConfigurationError(path: path, line: line, reason: "key '\(key)' is already set on line \(first)") }
            lines[key] = line
        }
        var entries: [(key: String, value: ConfigurationValue, line: Int?)] = []
        for (key, item) in object.sorted(by: { ((lines[$0.key] ?? 0), $0.key) < ((lines[$1.key] ?? 0), $1.key) }) {
            entries.append((key, try jsonValue(item, key: key, line: lines[key], path: path), lines[key]))
        }
        return entries
    }

    /// The keys of the top-level object of a document JSONSerialization has accepted, in order, with their lines.
    /// A valid document keeps line breaks out of strings, so every `\n` outside one ends a line.
    private static func topLevelKeys(_ bytes: [UInt8]) -> [(key: String, line: Int)] {
        var keys: [(key: String, line: Int)] = []
        var depth = 0, line = 1, expectingKey = false, index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\n"): line += 1
            case UInt8(ascii: "{"): depth += 1; expectingKey = depth == 1
            case UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ","): if depth == 1 { expectingKey = true }
            case UInt8(ascii: ":"): if depth == 1 { expectingKey = false }
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                    index += 1
                }
                if depth == 1, expectingKey, index < bytes.count,
                   let key = try? JSONSerialization.jsonObject(with: Data(bytes[start ... index]), options: .fragmentsAllowed) as? String {
                    keys.append((key, line))
                }
            default: break
            }
            index += 1
        }
        return keys
    }

    private static func jsonValue(_ item: Any, key: String, line: Int?, path: String) throws(ConfigurationError) -> ConfigurationValue {
        switch item {
        case let text as String:
            return .string(text)
        case let number as NSNumber:
            // JSONSerialization gives booleans and numbers alike as NSNumber (and `as? Bool` accepts 0 and 1); the
            // Objective-C type tells them apart on every platform: "c" for true/false, "d" for a number written
            // with a fraction or an exponent or beyond 64 bits, "Q" for one between Int.max and UInt64.max.
            switch String(cString: number.objCType) {
            case "c": return .bool(number.boolValue)
            case "d", "f": return .double(number.doubleValue)
            case "Q": return Int(exactly: number.uint64Value).map(ConfigurationValue.integer) ?? .double(number.doubleValue)
            default: return .integer(number.intValue)
            }
        case let items as [Any]:
            var values: [ConfigurationValue] = []
            for item in items { values.append(try jsonValue(item, key: key, line: line, path: path)) }
            return .array(values)
        default:
            let found = item is NSNull ? "null (leave the key out instead)" : "an object (settings are flat)"
            throw ConfigurationError(path: path, line: line, reason: "'\(key)' must be a string, a number, true, false or an array of those, found \(found)")
        }
    }
}
