/// Where a setting's value was given, so that a message can point at it.
public enum SettingOrigin: Equatable, Sendable {
    /// On the command line: the CLI names it as the flag `--KEY`.
    case flag
    /// In a settings or experiment file, on `line` when the format keeps lines.
    case file(path: String, line: Int?)
}

/// A setting whose value is unusable: which setting (its key, `max-tokens`, which is also the flag's name), the value
/// found and what was expected. The library never names a flag; the CLI renders an error from a flag as `--KEY`.
public struct RunSettingsError: Error, CustomStringConvertible, Equatable {
    public let key: String
    /// The value as written, strings quoted.
    public let found: String
    /// What the value must be, as it reads after "must be".
    public let expected: String
    /// Where the value was given; nil for settings built in code (an experiment, a test).
    public var origin: SettingOrigin?

    public init(key: String, found: String, expected: String, origin: SettingOrigin? = nil) {
        self.key = key
        self.found = found
        self.expected = expected
        self.origin = origin
    }

    /// What is wrong, without where: `'max-tokens' must be at least 1, found 0`.
    public var problem: String { "'\(key)' must be \(expected), found \(found)" }

    /// `FILE: line N: 'max-tokens' must be ...` for a value from a file, the problem alone otherwise.
    public var description: String {
        guard case let .file(path, line) = origin else { return problem }
        return ConfigurationError(path: path, line: line, reason: problem).description
    }
}

/// A configuration or experiment file that cannot be used as a whole (unreadable, not JSON/TOML, an unknown key):
/// one line naming the file, the line when known, and the problem.
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
