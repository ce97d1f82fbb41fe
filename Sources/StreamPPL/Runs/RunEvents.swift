/// What a run, a reproduction or a bench tells whoever started it while it works. The library never prints: it
/// hands these typed values to its caller, which decides how to show them (the CLI draws them on stderr).
public protocol RunEvents: AnyObject {
    /// After every prediction of a job, and once when it ends. Called that often, a sink that prints throttles itself.
    func progress(_ progress: JobProgress)
    /// Something worth knowing that is not an error.
    func notice(_ notice: RunNotice)
}

public enum RunNotice: Sendable {
    /// The run folder held an interrupted run that was not to be resumed: it is discarded and the run starts afresh.
    case discardingInterruptedRun(folder: String)
    /// A job passed over documents with fewer than the two tokens a prediction needs (METHOD.md §1); their indices.
    case skippedDocuments(config: String, data: String, documents: [Int])
    /// These configs evict by attention (h2o, tova), which only the token-by-token path computes: the run feeds them one
    /// token per forward pass although it was not asked to. Said once per run.
    case tokenByTokenPolicies(configs: [String])
    /// A job continues from its checkpoint (`--resume`) after `predictions` predictions.
    case resumingJob(job: String, predictions: Int)
    /// A reproduction begins an experiment.
    case experimentStarted(name: String, title: String)
    /// A reproduction measured one point of a latency sweep (Figure 10).
    case latencyPointMeasured(LatencySweep.Point)
    /// A bench measured one row of its report (the Markdown row).
    case benchRowMeasured(String)
}
