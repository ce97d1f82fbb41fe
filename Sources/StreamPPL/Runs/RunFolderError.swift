/// A run folder that cannot take this run.
public enum RunFolderError: Error, CustomStringConvertible, Equatable {
    /// `plan` records an interrupted run with other settings, model, shard or tool version than the one resuming it:
    /// continuing would mix two runs' rows.
    case otherRun(plan: String, folder: String)

    public var description: String {
        switch self {
        case let .otherRun(plan, folder): "\(plan): the interrupted run in \(folder) has other settings, model or shard"
        }
    }
}
