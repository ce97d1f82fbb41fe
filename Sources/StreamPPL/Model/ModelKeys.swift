/// Typed reads of a model file's metadata keys, for `ModelConfig` and the architectures' own keys: nil when a key is
/// absent, a `ModelError` naming the key when it is present with the wrong type or out of range (a mistyped
/// hyper-parameter must not be ignored or replaced by a default).
struct ModelKeys {
    let gguf: GGUFFile

    init(_ gguf: GGUFFile) { self.gguf = gguf }

    var path: String { gguf.path }

    /// An integer for which `valid` holds: another type is "expected an integer", an integer out of range `expected`.
    func integer(_ key: String, expected: String = "an integer", valid: (Int) -> Bool = { _ in true }) throws(ModelError) -> Int? {
        guard let value = gguf.metadata[key] else { return nil }
        guard let integer = value.intValue else { throw invalid(key, value, expected: "an integer") }
        guard valid(integer) else { throw invalid(key, value, expected: expected) }
        return integer
    }

    func positiveInteger(_ key: String) throws(ModelError) -> Int? {
        try integer(key, expected: "a positive integer") { $0 > 0 }
    }

    /// A finite number (an integer is taken as one) for which `valid` holds.
    func number(_ key: String, expected: String, valid: (Float) -> Bool) throws(ModelError) -> Float? {
        guard let value = gguf.metadata[key] else { return nil }
        guard let number = value.floatValue, number.isFinite, valid(number) else { throw invalid(key, value, expected: expected) }
        return number
    }

    /// A finite number, 0 or more, of a feature that 0 turns off as absence does: nil then.
    func numberOrOff(_ key: String) throws(ModelError) -> Float? {
        try number(key, expected: "a finite number, 0 or more") { $0 >= 0 }.flatMap { $0 > 0 ? $0 : nil }
    }

    func boolean(_ key: String) throws(ModelError) -> Bool? {
        guard let value = gguf.metadata[key] else { return nil }
        guard let boolean = value.boolValue else { throw invalid(key, value, expected: "a boolean") }
        return boolean
    }

    /// `read`'s value of `key`, which the file must have.
    func require<Value>(_ key: String, _ read: (String) throws(ModelError) -> Value?) throws(ModelError) -> Value {
        guard let value = try read(key) else { throw .missingKey(path: path, key: key) }
        return value
    }

    func invalid(_ key: String, _ value: GGUFValue, expected: String) -> ModelError {
        .invalidValue(path: path, key: key, value: value.summary, expected: expected)
    }
}
