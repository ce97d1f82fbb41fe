import Foundation

/// One of the paper's experiments as data (`experiments/NAME.json`), redone by `streamppl reproduce NAME`
/// into `results/NAME/`. Its stream settings are read by the same keys as a run's settings file.
public struct Experiment: Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        /// Streams datasets under cache configs: a `run`.
        case stream
        /// Figure 2: `streamppl attention` over `sequences` sequences of `length` tokens.
        case attention
        /// Figure 10: `streamppl latency` at each of `cache-sizes`, recompute:L vs 4+(L-4).
        case latency
    }

    public var name = ""
    public var title = ""
    /// What the experiment shows and how it differs from the paper's setup (printed into its summary).
    public var notes: String?
    public var kind = Kind.stream
    /// `data`, `cache`, `max-tokens`, `repeat`, ...: everything of a run but the model, which `reproduce` is given.
    public var stream = RunSettings(caches: [])
    public var sequences: Int?
    public var length: Int?
    public var cacheSizes: [Int]?
    /// Timed tokens per streaming point, and per re-computation point (one per cache size: a pass over L tokens
    /// per token costs seconds at large L).
    public var tokens: Int?
    public var recomputeTokens: [Int]?

    static let schema = SettingsSchema<Experiment>(fields: [
        SettingField("title", \.title, .string),
        SettingField("notes", \.notes, .string),
        SettingField("kind", \.kind, .choice(Kind.self)),
        SettingField("sequences", \.sequences, .wholeNumber),
        SettingField("length", \.length, .wholeNumber),
        SettingField("cache-sizes", \.cacheSizes, .wholeNumbers),
        SettingField("tokens", \.tokens, .wholeNumber),
        SettingField("recompute-tokens", \.recomputeTokens, .wholeNumbers),
    ] + RunSettings.fields.filter { $0.key != "model" }.map { $0.lifted(\Experiment.stream) })

    /// Reads `folder/NAME.json`.
    public static func load(_ name: String, from folder: String) throws -> Experiment {
        let path = (folder as NSString).appendingPathComponent(name + ".json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReproductionError.noSuchExperiment(path: path)
        }
        return try decode(bytes: [UInt8](data), name: name, path: path)
    }

    /// An experiment file's bytes; `path` names it in messages. Throws `ConfigurationError` (not JSON, an unknown or
    /// repeated key) or `RunSettingsError` (a value, naming the file).
    public static func decode(bytes: [UInt8], name: String, path: String) throws -> Experiment {
        let given = try ConfigurationFile(bytes: bytes, format: .json, path: path, allowedKeys: schema.keys).given
        var experiment = Experiment()
        experiment.name = name
        do throws(RunSettingsError) {
            for key in ["title", "kind"] where given[key] == nil {
                throw RunSettingsError(key: key, found: "no value", expected: key == "kind" ? SettingKind<Kind>.choice(Kind.self).expected : "a string")
            }
            try schema.apply([given], to: &experiment) { (experiment: Experiment) throws(RunSettingsError) in try experiment.validate() }
        } catch {
            var error = error
            // A rule of the whole file (no cache at all) points at the file.
            error.origin = error.origin ?? .file(path: path, line: nil)
            throw error
        }
        return experiment
    }

    private func validate() throws(RunSettingsError) {
        switch kind {
        case .stream:
            try stream.validate()
        case .attention:
            guard let sequences, sequences >= 1 else {
                throw RunSettingsError(key: "sequences", found: sequences.map(String.init) ?? "no value", expected: "at least 1")
            }
            guard let length, length >= 2 else { throw RunSettingsError(key: "length", found: length.map(String.init) ?? "no value", expected: "at least 2") }
        case .latency:
            guard let sizes = cacheSizes, !sizes.isEmpty, sizes.allSatisfy({ $0 > 4 }) else {
                throw RunSettingsError(key: "cache-sizes", found: cacheSizes.map { "\($0)" } ?? "no value", expected: "a list of cache sizes, each above 4")
            }
            guard let tokens, tokens >= 1 else { throw RunSettingsError(key: "tokens", found: tokens.map(String.init) ?? "no value", expected: "at least 1") }
            guard let recomputeTokens, recomputeTokens.count == sizes.count, recomputeTokens.allSatisfy({ $0 >= 1 }) else {
                throw RunSettingsError(key: "recompute-tokens", found: recomputeTokens.map { "\($0)" } ?? "no value",
                                       expected: "one count of at least 1 per cache size (\(sizes.count))")
            }
        }
    }

    /// The experiments in `folder`, by name; those of a subfolder (a group, such as `beyond/256` and `beyond/1024`) are
    /// named `group/name`.
    public static func names(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().flatMap { entry -> [String] in
            if entry.hasSuffix(".json") { return [String(entry.dropLast(5))] }
            return group(entry, in: folder) ?? []
        }
    }

    /// The experiments of the group `name` (a subfolder of `folder`), or nil when there is no such folder.
    public static func group(_ name: String, in folder: String) -> [String]? {
        var isFolder: ObjCBool = false
        let path = (folder as NSString).appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return nil }
        return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".json") }
            .map { name + "/" + $0.dropLast(5) }.sorted()
    }

    /// The dataset an attention or latency experiment reads.
    public var firstDataset: String { stream.data.first ?? RunSettings.defaultData }

    public func settings(model: String) -> RunSettings {
        var settings = stream
        settings.model = model
        return settings
    }
}
