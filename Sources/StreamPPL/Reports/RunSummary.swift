#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What one (config, dataset) job produced.
public struct ConfigResult: Sendable {
    public let config: String
    public let data: String
    public let statistics: NLLStatistics
    /// What the predictions' targets cover: the denominators of bits per byte, byte and word perplexity.
    public let coveredText: CoveredText
    public let seconds: Double
    public let peakResidentBytes: Int?
    /// False when the run was interrupted before the stream (or --max-tokens) ended.
    public let complete: Bool

    public init(config: String, data: String, statistics: NLLStatistics, coveredText: CoveredText = CoveredText(),
                seconds: Double, peakResidentBytes: Int?, complete: Bool) {
        self.config = config
        self.data = data
        self.statistics = statistics
        self.coveredText = coveredText
        self.seconds = seconds
        self.peakResidentBytes = peakResidentBytes
        self.complete = complete
    }

    public var tokensPerSecond: Double { seconds > 0 ? Double(statistics.count) / seconds : .nan }
    public var bitsPerByte: Double { coveredText.bitsPerByte(sumNLL: statistics.sum) }
    public var bytePerplexity: Double { coveredText.bytePerplexity(sumNLL: statistics.sum) }
    public var wordPerplexity: Double { coveredText.wordPerplexity(sumNLL: statistics.sum) }
}

/// `summary.csv` and `summary.md` (METHOD.md §4): one row per (config, dataset).
public struct RunSummary: Sendable {
    public let model: String
    public let modelSHA256: String
    public let results: [ConfigResult]

    public init(model: String, modelSHA256: String, results: [ConfigResult]) {
        self.model = model
        self.modelSHA256 = modelSHA256
        self.results = results
    }

    public static let csvHeader = "config,tokens,mean_nll,ppl,ppl_ci95_low,ppl_ci95_high,ppl_second_half,tokens_per_second,peak_rss_mb,complete,"
        + "model,model_sha256,data,bytes,words,bits_per_byte,byte_ppl,word_ppl"
    /// Columns that differ from run to run of the same evaluation.
    public static let timingColumns: Set<String> = ["tokens_per_second", "peak_rss_mb"]

    public var csv: String {
        var lines = [Self.csvHeader]
        for result in results {
            let s = result.statistics
            let interval = s.perplexityInterval
            let fields: [String] = [
                NLLLog.csvField(result.config), String(s.count), String(s.meanNLL), String(s.perplexity),
                String(interval.low), String(interval.high), String(s.secondHalfPerplexity),
                String(format: "%.1f", result.tokensPerSecond), Self.megabytes(result.peakResidentBytes),
                String(result.complete), NLLLog.csvField(model), modelSHA256, NLLLog.csvField(result.data),
                String(result.coveredText.bytes), String(result.coveredText.words), String(result.bitsPerByte),
                String(result.bytePerplexity), String(result.wordPerplexity),
            ]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var markdown: String {
        let datasets = results.map(\.data).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let byData = datasets.count > 1
        var lines = [
            "Model: `\(model)`  ",
            "Data: " + datasets.map { "`\($0)`" }.joined(separator: ", "),
            "",
            "| cache |" + (byData ? " data |" : "") + " tokens | mean NLL | PPL | 95% interval | PPL 2nd half | bits/byte | byte PPL | word PPL | tokens/s | peak RSS (MB) |",
            "|---|" + (byData ? "---|" : "") + "---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for result in results {
            let s = result.statistics
            let interval = s.perplexityInterval
            let name = "`" + result.config + "`" + (result.complete ? "" : " (partial)")
            lines.append("| \(name) |" + (byData ? " `\(result.data)` |" : "")
                + " \(s.count) | \(String(format: "%.4f", s.meanNLL)) | \(String(format: "%.2f", s.perplexity)) | "
                + "\(String(format: "%.2f–%.2f", interval.low, interval.high)) | \(String(format: "%.2f", s.secondHalfPerplexity)) | "
                + "\(String(format: "%.4f", result.bitsPerByte)) | \(String(format: "%.4f", result.bytePerplexity)) | "
                + "\(String(format: "%.2f", result.wordPerplexity)) | \(String(format: "%.1f", result.tokensPerSecond)) | \(Self.megabytes(result.peakResidentBytes)) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The summary for other programs (`run --json`): the CSV's columns per row, numbers as numbers.
    public func json(out: String) -> String {
        struct Row: Encodable {
            let config, data: String
            let tokens, bytes, words: Int
            let mean_nll, ppl, ppl_ci95_low, ppl_ci95_high, ppl_second_half, bits_per_byte, byte_ppl, word_ppl, tokens_per_second: Double?
            let peak_rss_mb: Double?
            let complete: Bool
        }
        struct Document: Encodable {
            let out, model, model_sha256: String
            let complete: Bool
            let results: [Row]
        }
        func finite(_ value: Double) -> Double? { value.isFinite ? value : nil }
        let rows = results.map { result in
            let s = result.statistics, interval = s.perplexityInterval
            return Row(config: result.config, data: result.data, tokens: s.count, bytes: result.coveredText.bytes,
                       words: result.coveredText.words, mean_nll: finite(s.meanNLL), ppl: finite(s.perplexity),
                       ppl_ci95_low: finite(interval.low), ppl_ci95_high: finite(interval.high), ppl_second_half: finite(s.secondHalfPerplexity),
                       bits_per_byte: finite(result.bitsPerByte), byte_ppl: finite(result.bytePerplexity),
                       word_ppl: finite(result.wordPerplexity),
                       tokens_per_second: finite(result.tokensPerSecond), peak_rss_mb: result.peakResidentBytes.map { Double($0) / 1_000_000 },
                       complete: result.complete)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let document = Document(out: out, model: model, model_sha256: modelSHA256, complete: results.allSatisfy(\.complete), results: rows)
        return String(decoding: (try? encoder.encode(document)) ?? Data(), as: UTF8.self)
    }

    private static func megabytes(_ bytes: Int?) -> String {
        bytes.map { String(format: "%.0f", Double($0) / 1_000_000) } ?? ""
    }
}
