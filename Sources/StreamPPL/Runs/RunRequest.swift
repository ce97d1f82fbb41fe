import StreamPPLKernels

/// What `streamppl run` is asked to do, from its flags and its `--config FILE`: the settings that decide the numbers,
/// and where the outputs go and how the run proceeds (which do not).
public struct RunRequest: Equatable, Sendable {
    public var settings = RunSettings()
    public var out: String?
    public var resume = false
    public var shard: Shard?
    /// Seconds between checkpoints, fractions allowed (0: after every forward pass).
    public var checkpointInterval: Double = 60
    /// Jobs evaluated side by side (nil: `parallelJobs` decides).
    public var jobs: Int?

    /// The jobs to run side by side: `jobs` when given, else one per core, at most as many as this run (or shard) has.
    /// One thread per job because a job does not keep two cores busy: on the 2-core machine, two jobs side by side
    /// gave 1.13x (chunked) and 1.94x (token by token) the tokens/s of one job at a time on both cores (README "Jobs
    /// side by side", `streamppl bench`, results/beyond/bench.md).
    public var parallelJobs: Int {
        if let jobs { return jobs }
        let count = settings.jobs.filter { shard?.selects($0) ?? true }.count
        return max(1, min(count, Parallel.cores))
    }

    public init() {}

    static let schema = SettingsSchema<RunRequest>(fields: RunSettings.fields.map { $0.lifted(\RunRequest.settings) } + [
        SettingField("out", \.out, .string),
        // The flag is only given when set, so a file's `resume = true` holds without it.
        SettingField("resume", \.resume, .bool),
        SettingField("shard", \.shard, SettingKind<String>.string.then { (text: String) throws(SettingMismatch) in
            do throws(RunSettingsError) { return try Shard(text) } catch { throw SettingMismatch(found: error.found, expected: error.expected) }
        }),
        SettingField("checkpoint-interval", \.checkpointInterval, .seconds),
        SettingField("jobs", \.jobs, SettingKind<Int>.wholeNumber.then { (jobs: Int) throws(SettingMismatch) in
            guard jobs >= 1 else { throw SettingMismatch(found: String(jobs), expected: "at least 1 (jobs side by side)") }
            return jobs
        }),
    ])

    /// The keys a settings file for `streamppl run` may set: the flags' names.
    public static var keys: Set<String> { schema.keys }

    /// Defaults, then each layer in turn (the settings of a file, then those of the flags), each value checked as
    /// the same type whichever layer gives it; then the settings are validated as a whole.
    public static func resolve(_ layers: [[String: GivenSetting]]) throws(RunSettingsError) -> RunRequest {
        var request = RunRequest()
        try schema.apply(layers, to: &request) { (request: RunRequest) throws(RunSettingsError) in try request.settings.validate() }
        return request
    }

    /// A settings file's bytes read as a request by themselves (what `--config FILE` contributes before the flags).
    /// `path` names the file in messages. Throws `ConfigurationError` (the format, an unknown or repeated key) or
    /// `RunSettingsError` (a value, with its line).
    public static func decode(bytes: [UInt8], format: ConfigurationFormat, path: String) throws -> RunRequest {
        try resolve([ConfigurationFile(bytes: bytes, format: format, path: path, allowedKeys: keys).given])
    }
}
