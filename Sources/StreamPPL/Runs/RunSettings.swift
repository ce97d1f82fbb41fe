/// Why a run's settings are unusable; one line naming the setting.
public struct RunSettingsError: Error, CustomStringConvertible, Equatable {
    public let reason: String
    public var description: String { reason }
}

/// Everything that decides a run's numbers (`streamppl run` flags or `--config FILE`), minus where outputs go.
/// Equal settings give equal logs: `--resume` and `merge` check them.
public struct RunSettings: Codable, Equatable, Sendable {
    public var model: String
    /// Datasets, each its own stream per cache config.
    public var data: [String]
    public var caches: [String]
    /// Scored predictions per job; nil for the whole dataset.
    public var maxTokens: Int?
    /// `--repeat N`: each dataset streamed N times over (nil: once, and absent from older run.json files).
    public var repeats: Int?
    /// How many times each dataset is streamed.
    public var repeatCount: Int { repeats ?? 1 }
    public var chunkSize: Int
    public var exactTokenByToken: Bool
    public var positions: String
    public var logFormat: String

    public static let defaultModel = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let defaultData = "datasets/pg19-shakespeare"

    public init(model: String = defaultModel, data: [String] = [defaultData], caches: [String] = ["4+1020"], maxTokens: Int? = nil,
                repeats: Int? = nil, chunkSize: Int = 256, exactTokenByToken: Bool = false, positions: String = PositionMode.cache.rawValue, logFormat: String = "gz") {
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

    public func validate() throws(RunSettingsError) {
        guard !caches.isEmpty else { throw RunSettingsError(reason: "no --cache given") }
        for text in caches {
            do { _ = try CacheConfig(text) } catch { throw RunSettingsError(reason: "--cache: \(error)") }
        }
        guard !data.isEmpty else { throw RunSettingsError(reason: "no --data given") }
        if let duplicate = Dictionary(grouping: caches, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw RunSettingsError(reason: "--cache '\(duplicate)' is given twice")
        }
        if let duplicate = Dictionary(grouping: data, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw RunSettingsError(reason: "--data '\(duplicate)' is given twice")
        }
        if let maxTokens, maxTokens < 1 { throw RunSettingsError(reason: "--max-tokens must be at least 1, found \(maxTokens)") }
        if let repeats, repeats < 1 { throw RunSettingsError(reason: "--repeat must be at least 1, found \(repeats)") }
        guard chunkSize >= 1 else { throw RunSettingsError(reason: "--chunk-size must be at least 1, found \(chunkSize)") }
        guard PositionMode(rawValue: positions) != nil else {
            throw RunSettingsError(reason: "--positions must be cache or original, found '\(positions)'")
        }
        guard ["gz", "csv"].contains(logFormat) else { throw RunSettingsError(reason: "--log-format must be gz or csv, found '\(logFormat)'") }
    }

    public var evaluationOptions: EvaluationOptions {
        EvaluationOptions(maxPredictions: maxTokens ?? .max, chunkSize: chunkSize, exactTokenByToken: exactTokenByToken,
                          positions: PositionMode(rawValue: positions) ?? .cache)
    }

    /// The run's (config x dataset) jobs, config by config, in the order their rows appear in the outputs.
    /// Call after `validate`.
    public var jobs: [RunJob] {
        var jobs: [RunJob] = []
        for cache in caches {
            for dataset in data {
                // Validated: the config parses.
                if let config = try? CacheConfig(cache) { jobs.append(RunJob(index: jobs.count, config: config, data: dataset)) }
            }
        }
        return jobs
    }
}

/// One (cache config, dataset) evaluation of a run.
public struct RunJob: Sendable, Equatable {
    public let index: Int
    public let config: CacheConfig
    public let data: String
}

/// `--shard K/N`: the jobs whose index is K modulo N, for one of N processes or machines (K from 0, as the
/// array indices of Slurm and Kubernetes Indexed Jobs are).
public struct Shard: Codable, Equatable, Sendable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(_ text: String) throws(RunSettingsError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (0 ..< count).contains(index) else {
            throw RunSettingsError(reason: "--shard must be K/N with 0 <= K < N, found '\(text)'")
        }
        self.index = index
        self.count = count
    }

    public func selects(_ job: RunJob) -> Bool { job.index % count == index }

    public var description: String { "\(index)/\(count)" }
}
