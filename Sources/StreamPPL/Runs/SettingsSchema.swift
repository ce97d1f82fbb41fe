/// A setting as given: its value and where it was given.
public struct GivenSetting: Equatable, Sendable {
    public let value: ConfigurationValue
    public let origin: SettingOrigin

    public init(value: ConfigurationValue, origin: SettingOrigin) {
        self.value = value
        self.origin = origin
    }
}

/// A value that is not of a setting's kind: what was found and what was expected (the field adds the key).
struct SettingMismatch: Error {
    let found: String
    let expected: String
}

/// What a setting's value may be, and the typed value it reads to. The same kinds read flags and files, so a rule
/// (a fraction in `checkpoint-interval`, a float that is a whole number) is the same everywhere.
struct SettingKind<Value> {
    /// Reads after "must be" in a message: the values of the kind.
    let expected: String
    let read: (ConfigurationValue) throws(SettingMismatch) -> Value

    /// `read` gives nil for a value not of the kind.
    init(expected: String, read: @escaping (ConfigurationValue) -> Value?) {
        self.expected = expected
        self.read = { (value: ConfigurationValue) throws(SettingMismatch) -> Value in
            guard let typed = read(value) else { throw SettingMismatch(found: value.description, expected: expected) }
            return typed
        }
    }

    private init(expected: String, reading: @escaping (ConfigurationValue) throws(SettingMismatch) -> Value) {
        self.expected = expected
        read = reading
    }

    /// Reads a value of this kind, then makes it into another: a string into a shard, strings into cache configs.
    func then<Next>(_ make: @escaping (Value) throws(SettingMismatch) -> Next) -> SettingKind<Next> {
        let read = self.read
        return SettingKind<Next>(expected: expected, reading: { (value: ConfigurationValue) throws(SettingMismatch) -> Next in try make(read(value)) })
    }

    static var string: SettingKind<String> {
        SettingKind<String>(expected: "a string") { if case let .string(text) = $0 { text } else { nil } }
    }

    /// A single string or an array of strings, as for a flag that may be repeated (`--cache`, `--data`).
    static var strings: SettingKind<[String]> {
        SettingKind<[String]>(expected: "a string or an array of strings") { value in
            switch value {
            case let .string(text): return [text]
            case let .array(items):
                var texts: [String] = []
                for case let .string(text) in items { texts.append(text) }
                return texts.count == items.count ? texts : nil
            default: return nil
            }
        }
    }

    /// A whole number; a float such as 1e6 or 100.0 counts when it is exactly one.
    static var wholeNumber: SettingKind<Int> {
        SettingKind<Int>(expected: "a whole number", read: wholeNumber(of:))
    }

    static var wholeNumbers: SettingKind<[Int]> {
        SettingKind<[Int]>(expected: "an array of whole numbers") { value in
            guard case let .array(items) = value else { return nil }
            let numbers = items.compactMap(wholeNumber(of:))
            return numbers.count == items.count ? numbers : nil
        }
    }

    private static func wholeNumber(of value: ConfigurationValue) -> Int? {
        switch value {
        case let .integer(integer): integer
        case let .double(double): Int(exactly: double)
        default: nil
        }
    }

    static var bool: SettingKind<Bool> {
        SettingKind<Bool>(expected: "true or false") { if case let .bool(flag) = $0 { flag } else { nil } }
    }

    /// Seconds, fractions allowed, from 0 up: one rule for the flag and both file formats.
    static var seconds: SettingKind<Double> {
        SettingKind<Double>(expected: "a number of seconds, at least 0") { value in
            let seconds: Double? = switch value {
            case let .integer(integer): Double(integer)
            case let .double(double): double
            default: nil
            }
            return seconds.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
        }
    }

    /// One of an enumeration's names: `cache or original`.
    static func choice<Choice: RawRepresentable & CaseIterable>(_: Choice.Type) -> SettingKind<Choice> where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        let expected = names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "") : names.joined()
        return SettingKind<Choice>(expected: expected) { if case let .string(text) = $0 { Choice(rawValue: text) } else { nil } }
    }
}

/// One key of a schema and how its value sets a field of `Target`.
struct SettingField<Target> {
    let key: String
    let set: (inout Target, ConfigurationValue) throws(RunSettingsError) -> Void

    init(key: String, set: @escaping (inout Target, ConfigurationValue) throws(RunSettingsError) -> Void) {
        self.key = key
        self.set = set
    }

    init<Value>(_ key: String, _ field: WritableKeyPath<Target, Value>, _ kind: SettingKind<Value>) {
        self.init(key: key) { (target: inout Target, value: ConfigurationValue) throws(RunSettingsError) in
            do throws(SettingMismatch) { target[keyPath: field] = try kind.read(value) } catch {
                throw RunSettingsError(key: key, found: error.found, expected: error.expected)
            }
        }
    }

    init<Value>(_ key: String, _ field: WritableKeyPath<Target, Value?>, _ kind: SettingKind<Value>) {
        self.init(key, field, kind.then { (typed: Value) -> Value? in typed })
    }

    /// The same field inside a larger target (the run settings of a run request or of an experiment).
    func lifted<Outer>(_ path: WritableKeyPath<Outer, Target>) -> SettingField<Outer> {
        let set = self.set
        return SettingField<Outer>(key: key) { (outer: inout Outer, value: ConfigurationValue) throws(RunSettingsError) in
            try set(&outer[keyPath: path], value)
        }
    }
}

/// The keys a `Target` is read from, flags and files alike, and how each sets it.
struct SettingsSchema<Target> {
    let fields: [SettingField<Target>]

    var keys: Set<String> { Set(fields.map(\.key)) }

    /// Sets `target` from each layer in turn (a file, then the flags: a later layer's value wins); then `validate`
    /// checks the whole. Every error points where its key's value was given (nil: at a default).
    func apply(_ layers: [[String: GivenSetting]], to target: inout Target,
               validate: (Target) throws(RunSettingsError) -> Void = { _ in }) throws(RunSettingsError) {
        var given: [String: GivenSetting] = [:]
        for layer in layers { given.merge(layer) { _, later in later } }
        // A file's keys are checked as it is read; this catches a caller's (the CLI's flags) misspelled key.
        if let unknown = given.keys.sorted().first(where: { !keys.contains($0) }), let setting = given[unknown] {
            throw RunSettingsError(key: unknown, found: setting.value.description,
                                   expected: "a known setting (\(keys.sorted().joined(separator: ", ")))", origin: setting.origin)
        }
        for field in fields {
            guard let setting = given[field.key] else { continue }
            do { try field.set(&target, setting.value) } catch {
                var error = error
                error.origin = setting.origin
                throw error
            }
        }
        do { try validate(target) } catch {
            var error = error
            error.origin = given[error.key]?.origin ?? error.origin
            throw error
        }
    }
}

extension RunSettings {
    /// The keys of the run settings, each named like its `streamppl run` flag.
    static let fields: [SettingField<RunSettings>] = [
        SettingField("model", \.model, .string),
        SettingField("data", \.data, .strings),
        SettingField("cache", \.caches, SettingKind<[String]>.strings.then { (texts: [String]) throws(SettingMismatch) in
            var configs: [CacheConfig] = []
            for text in texts {
                do throws(CacheConfigError) { configs.append(try CacheConfig(text)) } catch {
                    throw SettingMismatch(found: text.debugDescription, expected: "a cache config (\(error.reason))")
                }
            }
            return configs
        }),
        SettingField("max-tokens", \.maxTokens, .wholeNumber),
        SettingField("repeat", \.repeats, .wholeNumber),
        SettingField("exact-token-by-token", \.exactTokenByToken, .bool),
        SettingField("chunk-size", \.chunkSize, .wholeNumber),
        SettingField("positions", \.positions, .choice(PositionMode.self)),
        SettingField("log-format", \.logFormat, .choice(LogFormat.self)),
    ]
}
