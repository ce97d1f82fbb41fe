import Foundation

/// Progress of a long evaluation on stderr: a self-rewriting line on a terminal, a plain line every
/// `logInterval` seconds otherwise (so CI logs stay short).
public final class ProgressReporter {
    private let label: String
    private let total: Int?
    private let isTerminal: Bool
    private let start = Date()
    private lazy var lastPrint = start
    private let logInterval: TimeInterval
    /// Predictions made before this process started (a resumed run): they do not count towards the rate.
    private let alreadyDone: Int

    public init(label: String, total: Int?, alreadyDone: Int = 0, logInterval: TimeInterval = 10) {
        self.label = label
        self.total = total
        self.alreadyDone = alreadyDone
        self.logInterval = logInterval
        isTerminal = isatty(STDERR_FILENO) != 0
    }

    public func update(predictions: Int, meanNLL: Double) {
        let now = Date()
        guard now.timeIntervalSince(lastPrint) >= (isTerminal ? 0.25 : logInterval) else { return }
        lastPrint = now
        emit(predictions: predictions, meanNLL: meanNLL, final: false)
    }

    public func finish(predictions: Int, meanNLL: Double) {
        emit(predictions: predictions, meanNLL: meanNLL, final: true)
    }

    private func emit(predictions: Int, meanNLL: Double, final: Bool) {
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(predictions - alreadyDone) / elapsed : 0
        var line = "\(label): \(predictions)"
        if let total { line += "/\(total)" }
        line += String(format: " tokens, %.1f tok/s, ppl %.3f", rate, exp(meanNLL))
        if let total, rate > 0, !final {
            line += ", ETA " + Self.duration(Double(total - predictions) / rate)
        }
        if final { line += ", " + Self.duration(elapsed) }
        let text = isTerminal ? "\r\u{1B}[K" + line + (final ? "\n" : "") : line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    private static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
