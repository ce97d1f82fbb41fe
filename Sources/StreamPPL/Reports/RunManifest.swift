import Foundation

/// `run.json`: everything needed to rerun and to check a run's inputs.
public struct RunManifest: Codable, Sendable {
    public struct HashedFile: Codable, Sendable {
        public let path: String
        public let sha256: String

        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    public var tool: String
    public var version: String
    public var command: [String]
    public var model: HashedFile
    public var data: String
    public var dataFiles: [HashedFile]
    public var configs: [String]
    public var options: [String: String]
    public var machine: String
    public var started: String
    public var finished: String
    /// False when the run was interrupted: the logs and summaries hold what was scored until then.
    public var complete: Bool

    public init(version: String, command: [String], model: HashedFile, data: String, dataFiles: [HashedFile], configs: [String],
                options: [String: String], started: Date, finished: Date, complete: Bool) {
        tool = "streamppl"
        self.version = version
        self.command = command
        self.model = model
        self.data = data
        self.dataFiles = dataFiles
        self.configs = configs
        self.options = options
        machine = MachineInfo.description
        let format = ISO8601DateFormatter()
        self.started = format.string(from: started)
        self.finished = format.string(from: finished)
        self.complete = complete
    }

    public func write(to path: String) throws(ReportError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(self) } catch { throw ReportError(path: path, reason: "\(error)") }
        try AtomicFile.write(String(decoding: data, as: UTF8.self) + "\n", to: path)
    }
}

public enum StreamPPLVersion {
    public static let current = "0.1.0"
}
