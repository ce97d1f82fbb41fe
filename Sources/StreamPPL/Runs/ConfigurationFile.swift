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

/// A run configuration file (`streamppl run --config FILE`): flat settings named like the long flags of
/// `streamppl run`, written as a JSON object (`.json`) or as TOML `key = value` lines (`.toml`).
public struct ConfigurationFile: Sendable {
    public let path: String
    /// The settings by kebab-case key: `max_tokens` in the file is `max-tokens` here.
    public let values: [String: ConfigurationValue]
    /// The line each key is set on, for TOML files; messages about a value point at it.
    private let lines: [String: Int]

    /// Reads FILE; any key outside `allowedKeys` (given in kebab-case) is an error naming it and the allowed ones.
    public init(path: String, allowedKeys: Set<String>) throws(ConfigurationError) {
        self.path = path
        let entries: [(key: String, value: ConfigurationValue, line: Int?)]
        switch (path as NSString).pathExtension.lowercased() {
        case "json":
            entries = try Self.jsonEntries(Self.readText(path), path: path)
        case "toml":
            var text = try Self.readText(path)
            // Some editors start UTF-8 files with a byte order mark; it is not part of the document.
            if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
            do {
                entries = try TOMLParser.parse(text).map { ($0.key, $0.value, $0.line) }
            } catch {
                throw ConfigurationError(path: path, line: error.line, reason: error.reason)
            }
        default:
            throw ConfigurationError(path: path, reason: "a configuration file must end in .json or .toml")
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

    public func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = value(key) else { return nil }
        guard case let .string(text) = value else { throw mismatch(key, value, expected: "a string") }
        return text
    }

    /// A single string or an array of strings, as for a flag that may be repeated (`--cache`, `--data`).
    public func strings(_ key: String) throws(ConfigurationError) -> [String]? {
        guard let value = value(key) else { return nil }
        switch value {
        case let .string(text):
            return [text]
        case let .array(items):
            var texts: [String] = []
            for case let .string(text) in items { texts.append(text) }
            guard texts.count == items.count else { break }
            return texts
        default:
            break
        }
        throw mismatch(key, value, expected: "a string or an array of strings")
    }

    /// A whole number; a float such as 1e6 or 100.0 counts when it is exactly one.
    public func integer(_ key: String) throws(ConfigurationError) -> Int? {
        guard let value = value(key) else { return nil }
        switch value {
        case let .integer(integer): return integer
        case let .double(double): if let integer = Int(exactly: double) { return integer }
        default: break
        }
        throw mismatch(key, value, expected: "a whole number")
    }

    public func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case let .bool(flag) = value else { throw mismatch(key, value, expected: "true or false") }
        return flag
    }

    private func value(_ key: String) -> ConfigurationValue? { values[Self.kebabCase(key)] }

    private func mismatch(_ key: String, _ value: ConfigurationValue, expected: String) -> ConfigurationError {
        let key = Self.kebabCase(key)
        return ConfigurationError(path: path, line: lines[key], reason: "'\(key)' must be \(expected), found \(value)")
    }

    private static func kebabCase(_ key: String) -> String { key.replacingOccurrences(of: "_", with: "-") }

    private static func readText(_ path: String) throws(ConfigurationError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigurationError(path: path, reason: "no such configuration file")
        }
        guard !isDirectory.boolValue else { throw ConfigurationError(path: path, reason: "is a directory, not a configuration file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationError(path: path, reason: "cannot read the file") }
        guard let text = String(data: data, encoding: .utf8) else { throw ConfigurationError(path: path, reason: "the file is not UTF-8 text") }
        return text
    }

    private static func jsonEntries(_ text: String, path: String) throws(ConfigurationError) -> [(key: String, value: ConfigurationValue, line: Int?)] {
        let document: Any
        do {
            document = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
            throw ConfigurationError(path: path, reason: "not valid JSON: \(detail)")
        }
        guard let object = document as? [String: Any] else {
            throw ConfigurationError(path: path, reason: "the top level must be a JSON object of settings, {\"key\": value, ...}")
        }
        var entries: [(key: String, value: ConfigurationValue, line: Int?)] = []
        for (key, item) in object.sorted(by: { $0.key < $1.key }) {
            entries.append((key, try jsonValue(item, key: key, path: path), nil))
        }
        return entries
    }

    private static func jsonValue(_ item: Any, key: String, path: String) throws(ConfigurationError) -> ConfigurationValue {
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
            for item in items { values.append(try jsonValue(item, key: key, path: path)) }
            return .array(values)
        default:
            let found = item is NSNull ? "null (leave the key out instead)" : "an object (settings are flat)"
            throw ConfigurationError(path: path, reason: "'\(key)' must be a string, a number, true, false or an array of those, found \(found)")
        }
    }
}

/// A configuration file that cannot be used; one line naming the file, the line in a TOML file, and the problem.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let line: Int?
    public let reason: String

    public init(path: String, line: Int? = nil, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }

    public var description: String { "\(path): " + (line.map { "line \($0): " } ?? "") + reason }
}
