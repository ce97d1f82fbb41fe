import Foundation
import StreamPPL

/// Draws the library's progress and notices on stderr: a self-rewriting progress line on a terminal (at most four
/// times a second), a plain line every `logInterval` seconds otherwise (so CI logs stay short), notices as lines.
final class TerminalEvents: RunEvents {
    private let isTerminal: Bool
    private let logInterval: TimeInterval
    /// The job whose progress was last drawn, and its `seconds` then.
    private var lastDrawn: (job: String, seconds: Double)?

    init(logInterval: TimeInterval = 10, isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.logInterval = logInterval
        self.isTerminal = isTerminal
    }

    func progress(_ progress: JobProgress) {
        if let text = render(progress) { write(text) }
    }

    /// The text drawn for `progress`, or nil when too soon after the last one.
    func render(_ progress: JobProgress) -> String? {
        let since = lastDrawn.flatMap { $0.job == progress.job && $0.seconds <= progress.seconds ? $0.seconds : nil } ?? 0
        if progress.finished {
            lastDrawn = nil
        } else {
            guard progress.seconds - since >= (isTerminal ? 0.25 : logInterval) else { return nil }
            lastDrawn = (progress.job, progress.seconds)
        }
        var line = "\(progress.job): \(progress.predictions)"
        if let total = progress.total { line += "/\(total)" }
        line += String(format: " tokens, %.1f tok/s, ppl %.3f", progress.tokensPerSecond, progress.perplexity)
        if !progress.finished, let left = progress.secondsLeft { line += ", ETA " + Self.duration(left) }
        if progress.finished { line += ", " + Self.duration(progress.seconds) }
        return isTerminal ? "\r\u{1B}[K" + line + (progress.finished ? "\n" : "") : line + "\n"
    }

    func notice(_ notice: RunNotice) {
        switch notice {
        case let .discardingInterruptedRun(folder):
            write("streamppl: starting afresh in \(folder): the interrupted run there is discarded (--resume continues it)\n")
        case let .skippedDocuments(config, data, documents):
            let listed = documents.prefix(10).map(String.init).joined(separator: ", ") + (documents.count > 10 ? ", ..." : "")
            write("streamppl: \(config) on \(data): skipped \(documents.count) document(s) too short to score (fewer than 2 tokens): \(listed)\n")
        case let .tokenByTokenPolicies(configs):
            write("streamppl: \(configs.joined(separator: ", ")) evict by attention: fed one token per forward pass, as with --exact-token-by-token\n")
        case let .resumingJob(job, predictions):
            write("streamppl: \(job): resuming from its checkpoint after \(predictions) predictions\n")
        case let .experimentStarted(name, title):
            write("reproduce: \(name): \(title)\n")
        case let .latencyPointMeasured(point):
            write(String(format: "reproduce: L=%d: %.1f vs %.1f ms per token, %.1fx\n", point.cacheSize, point.recompute.millisecondsPerToken,
                         point.streaming.millisecondsPerToken, point.speedup))
        case let .benchRowMeasured(row):
            write("bench: \(row)\n")
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    private static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
