import Foundation

/// One job's share of a run's outputs: where its rows are and how it went.
public struct JobReport: Sendable {
    public let config: String
    public let data: String
    /// The job's log (`doc,position,token,nll` rows, no header).
    public let logPath: String
    /// Rows of the log that belong to this run (a longer log can serve a shorter run: the rows are its prefix).
    public let rowLimit: Int
    public let result: EvaluationJob.Result

    public init(config: String, data: String, logPath: String, rowLimit: Int = .max, result: EvaluationJob.Result) {
        self.config = config
        self.data = data
        self.logPath = logPath
        self.rowLimit = rowLimit
        self.result = result
    }
}

/// Writes a run's outputs (METHOD.md §4) from its jobs' logs, in job order: `nll.csv.gz` (or `nll.csv`), `summary.csv`,
/// `summary.md`, `memory.csv`, `ppl.svg`, `memory.svg`. The statistics are read back from the logs, so a run, a resumed run and
/// merged shards all get theirs from the same rows in the same order; the text each row's target covers comes from the
/// model's `tokenizer`, so words are counted over a job's whole log, document by document.
public enum RunReport {
    @discardableResult
    /// `byData`: the run covers several datasets (each row then names its own), whichever of them these jobs are on.
    public static func write(_ jobs: [JobReport], to directory: String, byData: Bool, model: String, modelSHA256: String,
                             tokenizer: Tokenizer, compressedLog: Bool, title: String) throws -> [ConfigResult] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let log = try NLLLog(directory: directory, compressed: compressedLog, withData: byData)
        defer { log.discardIfUnfinished() }
        var results: [ConfigResult] = []
        // Resident memory along the stream: it must stay flat (bounded by model + cache, not stream length).
        var memory = "config,predictions,rss_bytes" + (byData ? ",data" : "") + "\n"
        for job in jobs {
            let configField = NLLLog.csvField(job.config), dataField = byData ? NLLLog.csvField(job.data) : nil
            var statistics = NLLStatistics()
            var coveredText = CoveredText()
            try JobLog.forEachRow(of: job.logPath, limit: job.rowLimit) { row, nll in
                statistics.add(nll)
                guard let target = documentAndToken(of: row) else {
                    throw ReportError(path: job.logPath, reason: "row \(statistics.count) is not doc,position,token,nll")
                }
                coveredText.add(tokenizer.coveredBytes(of: target.token), document: target.document)
                try log.append(configField: configField, row: row, dataField: dataField)
            }
            let complete = job.result.complete && statistics.count == min(job.result.predictions, job.rowLimit)
            results.append(ConfigResult(config: job.config, data: job.data, statistics: statistics, coveredText: coveredText,
                                        seconds: job.result.seconds
                                            * Double(statistics.count) / Double(max(job.result.predictions, 1)),
                                        peakResidentBytes: job.result.peakResidentBytes, complete: complete))
            for sample in job.result.memory where sample.predictions <= statistics.count {
                memory += "\(configField),\(sample.predictions),\(sample.residentBytes)" + (dataField.map { "," + $0 } ?? "") + "\n"
            }
        }
        try log.finish()
        let labels = jobs.map { byData ? "\($0.config) · \(($0.data as NSString).lastPathComponent)" : $0.config }
        let summary = RunSummary(model: model, modelSHA256: modelSHA256, results: results)
        let path = { (name: String) in (directory as NSString).appendingPathComponent(name) }
        try DurableFile.write(summary.csv, to: path("summary.csv"))
        try DurableFile.write(summary.markdown, to: path("summary.md"))
        try DurableFile.write(memory, to: path("memory.csv"))
        let memorySeries = zip(jobs, labels).map { job, label in
            SVGLineChart.Series(name: label, points: job.result.memory.filter { $0.predictions <= job.rowLimit }
                .map { (Double($0.predictions), Double($0.residentBytes) / 1e6) })
        }
        var memoryChart = SVGLineChart(title: "Resident memory along the stream", xLabel: "input length (tokens)",
                                       yLabel: "resident memory (MB)", series: memorySeries)
        memoryChart.yFromZero = true
        try DurableFile.write(memoryChart.svg, to: path("memory.svg"))
        try DurableFile.write(PerplexityPlot.svg(results: results, labels: labels, title: title), to: path("ppl.svg"))
        // Whether eviction by attention keeps the first tokens, beside what the other configs keep by rule. A job that
        // ran past this run's rows (a longer job serving a prefix) ended elsewhere: it has no panel.
        if jobs.contains(where: { (try? CacheConfig($0.config))?.policy.evictsByAttention == true }) {
            let panels = zip(zip(jobs, labels), results).compactMap { pair, result -> EarlyTokensPlot.Panel? in
                let (job, label) = pair
                guard let kept = job.result.earlyTokensKept, result.statistics.count == job.result.predictions else { return nil }
                return EarlyTokensPlot.Panel(label: label, kept: kept)
            }
            try DurableFile.write(EarlyTokensPlot.csv(panels), to: path("kept.csv"))
            try DurableFile.write(EarlyTokensPlot.svg(panels, title: title), to: path("kept.svg"))
        }
        return results
    }

    /// The document index and target token of a job-log row `doc,position,token,nll`.
    private static func documentAndToken(of row: ArraySlice<UInt8>) -> (document: Int, token: Int32)? {
        let fields = row.split(separator: UInt8(ascii: ","), maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count == 4, let document = Int(String(decoding: fields[0], as: UTF8.self)),
              let token = Int32(String(decoding: fields[2], as: UTF8.self)) else { return nil }
        return (document, token)
    }
}
