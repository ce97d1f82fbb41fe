import Foundation

/// What one config's evaluation produced.
public struct ConfigResult: Sendable {
    public let config: String
    public let statistics: NLLStatistics
    public let seconds: Double
    public let peakResidentBytes: Int?
    /// False when the run was interrupted before the stream (or --max-tokens) ended.
    public let complete: Bool

    public init(config: String, statistics: NLLStatistics, seconds: Double, peakResidentBytes: Int?, complete: Bool) {
        self.config = config
        self.statistics = statistics
        self.seconds = seconds
        self.peakResidentBytes = peakResidentBytes
        self.complete = complete
    }

    public var tokensPerSecond: Double { seconds > 0 ? Double(statistics.count) / seconds : .nan }
}

/// `summary.csv` and `summary.md` (SPEC §4): one row per config.
public struct RunSummary: Sendable {
    public let model: String
    public let data: String
    public let results: [ConfigResult]

    public init(model: String, data: String, results: [ConfigResult]) {
        self.model = model
        self.data = data
        self.results = results
    }

    public static let csvHeader = "config,tokens,mean_nll,ppl,ppl_ci95_low,ppl_ci95_high,ppl_second_half,tokens_per_second,peak_rss_mb,complete,model,data"

    public var csv: String {
        var lines = [Self.csvHeader]
        for result in results {
            let s = result.statistics
            let interval = s.perplexityInterval
            let fields: [String] = [
                NLLLog.csvField(result.config), String(s.count), String(s.meanNLL), String(s.perplexity),
                String(interval.low), String(interval.high), String(s.secondHalfPerplexity),
                String(format: "%.1f", result.tokensPerSecond), Self.megabytes(result.peakResidentBytes),
                String(result.complete), NLLLog.csvField(model), NLLLog.csvField(data),
            ]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var markdown: String {
        var lines = [
            "Model: `\(model)`  ",
            "Data: `\(data)`",
            "",
            "| cache | tokens | mean NLL | PPL | 95% interval | PPL 2nd half | tokens/s | peak RSS (MB) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for result in results {
            let s = result.statistics
            let interval = s.perplexityInterval
            let name = "`" + result.config + "`" + (result.complete ? "" : " (partial)")
            lines.append("| \(name) | \(s.count) | \(String(format: "%.4f", s.meanNLL)) | \(String(format: "%.2f", s.perplexity)) | "
                + "\(String(format: "%.2f–%.2f", interval.low, interval.high)) | \(String(format: "%.2f", s.secondHalfPerplexity)) | "
                + "\(String(format: "%.1f", result.tokensPerSecond)) | \(Self.megabytes(result.peakResidentBytes)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func megabytes(_ bytes: Int?) -> String {
        bytes.map { String(format: "%.0f", Double($0) / 1_000_000) } ?? ""
    }
}
