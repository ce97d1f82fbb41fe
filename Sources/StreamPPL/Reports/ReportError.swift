public struct ReportError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): cannot write: \(reason)" }
}
