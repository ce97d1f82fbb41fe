import Foundation

/// `run.json`: everything needed to rerun and to check a run's inputs, and how each job went (what `merge` reads).
public struct RunManifest: Codable, Sendable {
    public struct HashedFile: Codable, Sendable, Equatable {
        public let path: String
        public let sha256: String

        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    /// A job of this run (of this shard, for a sharded run) and its result.
    public struct Job: Codable, Sendable {
        public let config: String
        public let data: String
        public let result: EvaluationJob.Result

        public init(config: String, data: String, result: EvaluationJob.Result) {
            self.config = config
            self.data = data
            self.result = result
        }
    }

    public var tool: String
    public var version: String
    public var command: [String]
    public var model: HashedFile
    public var dataFiles: [HashedFile]
    public var settings: RunSettings
    /// `K/N` for one shard's outputs; nil for a whole run (or merged shards).
    public var shard: String?
    public var jobs: [Job]
    public var precision: String
    public var machine: String
    public var started: String
    public var finished: String
    /// False when the run was interrupted: the logs and summaries hold what was scored until then.
    public var complete: Bool

    public static let precision = "float32 activations, KV cache and logits; float64 NLL accumulation"

    public init(version: String = StreamPPLVersion.current, command: [String], model: HashedFile, dataFiles: [HashedFile], settings: RunSettings,
                shard: Shard?, jobs: [Job], started: Date, finished: Date) {
        tool = "streamppl"
        self.version = version
        self.command = command
        self.model = model
        self.dataFiles = dataFiles
        self.settings = settings
        self.shard = shard?.description
        self.jobs = jobs
        precision = Self.precision
        machine = MachineInfo.description
        let format = ISO8601DateFormatter()
        self.started = format.string(from: started)
        self.finished = format.string(from: finished)
        complete = jobs.allSatisfy(\.result.complete)
    }

    public static func read(from path: String) throws(ReportError) -> RunManifest {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReportError(path: path, reason: "cannot read") }
        do { return try JSONDecoder().decode(RunManifest.self, from: data) } catch {
            throw ReportError(path: path, reason: "not a streamppl run.json (\(error))")
        }
    }

    public func write(to path: String) throws(ReportError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(self) } catch { throw ReportError(path: path, reason: "\(error)") }
        try DurableFile.write(String(decoding: data, as: UTF8.self) + "\n", to: path)
    }
}

public enum StreamPPLVersion {
    public static let current = "0.2.0"
}
