/// A result file that could not be written, or a run's own file (log, checkpoint, run.json) that could not be read back.
public struct ReportError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
