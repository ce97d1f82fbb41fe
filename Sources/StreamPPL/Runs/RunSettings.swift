/// How the per-token log is written (METHOD.md §4).
public enum LogFormat: String, Codable, CaseIterable, Sendable {
    /// `nll.csv.gz`
    case gz
    /// `nll.csv`
    case csv
}

/// Everything that decides a run's numbers (`streamppl run` flags or `--config FILE`), minus where outputs go.
/// Equal settings give equal logs: `--resume` and `merge` check them. Flags, settings files and experiment files
/// all decode into it through one table of keys (`SettingsSchema`).
public struct RunSettings: Equatable, Sendable {
    public var model: String
    /// Datasets, each its own stream per cache config.
    public var data: [String]
    public var caches: [CacheConfig]
    /// Scored predictions per job; nil for the whole dataset.
    public var maxTokens: Int?
    /// `repeat`: each dataset streamed N times over (nil: once, and absent from older run.json files).
    public var repeats: Int?
    /// How many times each dataset is streamed.
    public var repeatCount: Int { repeats ?? 1 }
    public var chunkSize: Int
    public var exactTokenByToken: Bool
    public var positions: PositionMode
    public var logFormat: LogFormat

    public static let defaultModel = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let defaultData = "datasets/pg19-shakespeare"
    /// 4 attention sinks and a 1020-token window: the paper's streaming setting (a literal that parses).
    public static let defaultCaches = [try? CacheConfig("4+1020")].compactMap { $0 }

    public init(model: String = defaultModel, data: [String] = [defaultData], caches: [CacheConfig] = defaultCaches, maxTokens: Int? = nil,
                repeats: Int? = nil, chunkSize: Int = 256, exactTokenByToken: Bool = false, positions: PositionMode = .cache,
                logFormat: LogFormat = .gz) {
        self.model = model
        self.data = data
        self.caches = caches
        self.maxTokens = maxTokens
        self.repeats = repeats
        self.chunkSize = chunkSize
        self.exactTokenByToken = exactTokenByToken
        self.positions = positions
        self.logFormat = logFormat
    }

    /// The rules that span a whole value (counts, ranges, repeats); the types and the cache configs' syntax are
    /// already checked by the fields' types. Each error names the setting's key.
    public func validate() throws(RunSettingsError) {
        guard !caches.isEmpty else { throw RunSettingsError(key: "cache", found: "none", expected: "at least one cache config") }
        guard !data.isEmpty else { throw RunSettingsError(key: "data", found: "none", expected: "at least one dataset") }
        if let duplicate = Self.firstDuplicate(caches.map(\.text)) {
            throw RunSettingsError(key: "cache", found: "\(duplicate.debugDescription) twice", expected: "each config once")
        }
        if let duplicate = Self.firstDuplicate(data) {
            throw RunSettingsError(key: "data", found: "\(duplicate.debugDescription) twice", expected: "each dataset once")
        }
        if let maxTokens, maxTokens < 1 { throw RunSettingsError(key: "max-tokens", found: String(maxTokens), expected: "at least 1") }
        if let repeats, repeats < 1 { throw RunSettingsError(key: "repeat", found: String(repeats), expected: "at least 1") }
        guard chunkSize >= 1 else { throw RunSettingsError(key: "chunk-size", found: String(chunkSize), expected: "at least 1") }
    }

    private static func firstDuplicate(_ items: [String]) -> String? {
        var seen: Set<String> = []
        return items.first { !seen.insert($0).inserted }
    }

    public var evaluationOptions: EvaluationOptions {
        EvaluationOptions(maxPredictions: maxTokens ?? .max, chunkSize: chunkSize, exactTokenByToken: exactTokenByToken, positions: positions)
    }

    /// The run's (config x dataset) jobs, config by config, in the order their rows appear in the outputs.
    public var jobs: [RunJob] {
        var jobs: [RunJob] = []
        for config in caches {
            for dataset in data { jobs.append(RunJob(index: jobs.count, config: config, data: dataset)) }
        }
        return jobs
    }
}

/// run.json and plan.json keep the encoding they had when configs and modes were strings: a config as typed
/// (`"4+1020"`), modes by name, so the file stays readable and a folder started by an older version resumes.
extension RunSettings: Codable {
    private enum CodingKeys: String, CodingKey {
        case model, data, caches, maxTokens, repeats, chunkSize, exactTokenByToken, positions, logFormat
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        data = try container.decode([String].self, forKey: .data)
        caches = try container.decode([String].self, forKey: .caches).map { (text: String) throws -> CacheConfig in
            do throws(CacheConfigError) { return try CacheConfig(text) } catch {
                throw DecodingError.dataCorruptedError(forKey: .caches, in: container, debugDescription: error.description)
            }
        }
        maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens)
        repeats = try container.decodeIfPresent(Int.self, forKey: .repeats)
        chunkSize = try container.decode(Int.self, forKey: .chunkSize)
        exactTokenByToken = try container.decode(Bool.self, forKey: .exactTokenByToken)
        positions = try container.decode(PositionMode.self, forKey: .positions)
        logFormat = try container.decode(LogFormat.self, forKey: .logFormat)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(model, forKey: .model)
        try container.encode(data, forKey: .data)
        try container.encode(caches.map(\.text), forKey: .caches)
        try container.encodeIfPresent(maxTokens, forKey: .maxTokens)
        try container.encodeIfPresent(repeats, forKey: .repeats)
        try container.encode(chunkSize, forKey: .chunkSize)
        try container.encode(exactTokenByToken, forKey: .exactTokenByToken)
        try container.encode(positions, forKey: .positions)
        try container.encode(logFormat, forKey: .logFormat)
    }
}

extension PositionMode: Codable {}

/// One (cache config, dataset) evaluation of a run.
public struct RunJob: Sendable, Equatable {
    public let index: Int
    public let config: CacheConfig
    public let data: String
}

/// `shard = K/N`: the jobs whose index is K modulo N, for one of N processes or machines (K from 0, as the
/// array indices of Slurm and Kubernetes Indexed Jobs are).
public struct Shard: Codable, Equatable, Sendable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(_ text: String) throws(RunSettingsError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0 ..< count).contains(index) else {
            throw RunSettingsError(key: "shard", found: text.debugDescription, expected: "K/N with 0 <= K < N")
        }
        self.index = index
        self.count = count
    }

    public func selects(_ job: RunJob) -> Bool { job.index % count == index }

    public var description: String { "\(index)/\(count)" }
}
