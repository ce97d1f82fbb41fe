import Foundation

/// How far a job has got: what a progress line shows. The library hands these to its caller and prints nothing;
/// the CLI draws them on stderr.
public struct JobProgress: Sendable, Equatable {
    /// The job: its cache config, and its dataset when the run has several.
    public let job: String
    public let predictions: Int
    /// The job's budget of predictions, when it has one.
    public let total: Int?
    /// Predictions made before this process took the job up (a resumed job): they do not count towards the rate.
    public let predictionsBefore: Int
    public let meanNLL: Double
    /// Seconds since this process took the job up.
    public let seconds: Double
    /// The job has ended (its stream, its budget or a stop): the last value for it.
    public let finished: Bool

    public init(job: String, predictions: Int, total: Int?, predictionsBefore: Int, meanNLL: Double, seconds: Double, finished: Bool) {
        self.job = job
        self.predictions = predictions
        self.total = total
        self.predictionsBefore = predictionsBefore
        self.meanNLL = meanNLL
        self.seconds = seconds
        self.finished = finished
    }

    /// Predictions per second made by this process.
    public var tokensPerSecond: Double { seconds > 0 ? Double(predictions - predictionsBefore) / seconds : 0 }
    public var perplexity: Double { exp(meanNLL) }

    /// Seconds to the budget at the rate so far; nil without a budget or a rate.
    public var secondsLeft: Double? {
        guard let total, tokensPerSecond > 0 else { return nil }
        return Double(total - predictions) / tokensPerSecond
    }
}

/// A job's progress, measured from when this process took it up and handed to `sink` after every prediction and
/// once at the end. Called that often, a sink that prints throttles itself.
final class ProgressReporter {
    private let label: String
    private let total: Int?
    private let start = Date()
    private let alreadyDone: Int
    private let sink: (JobProgress) -> Void

    init(label: String, total: Int?, alreadyDone: Int = 0, sink: @escaping (JobProgress) -> Void) {
        self.label = label
        self.total = total
        self.alreadyDone = alreadyDone
        self.sink = sink
    }

    func update(predictions: Int, meanNLL: Double) {
        sink(progress(predictions: predictions, meanNLL: meanNLL, finished: false))
    }

    func finish(predictions: Int, meanNLL: Double) {
        sink(progress(predictions: predictions, meanNLL: meanNLL, finished: true))
    }

    private func progress(predictions: Int, meanNLL: Double, finished: Bool) -> JobProgress {
        JobProgress(job: label, predictions: predictions, total: total, predictionsBefore: alreadyDone, meanNLL: meanNLL,
                    seconds: Date().timeIntervalSince(start), finished: finished)
    }
}
