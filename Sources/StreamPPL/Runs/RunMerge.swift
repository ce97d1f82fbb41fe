import CZlib
import Foundation

/// `streamppl merge`: joins the output folders of a sharded run (`run --shard K/N`) into the outputs the whole
/// run writes: the jobs' rows are split back out of each shard's log and written again in job order, so the
/// merged `nll.csv.gz` and summaries equal a single run's (timing fields aside).
public enum RunMerge {
    public static func merge(_ folders: [String], into out: String, command: [String] = CommandLine.arguments) throws -> RunExecutor.Outcome {
        let started = Date()
        guard let first = folders.first else { throw ReportError(path: out, reason: "merge needs at least one folder") }
        let outPath = RunExecutor.resolvedPath(out)
        if let input = folders.first(where: { RunExecutor.resolvedPath($0) == outPath }) {
            throw ReportError(path: out, reason: "is the input folder \(input): merging into it would overwrite that shard; choose another output folder")
        }
        let manifests = try folders.map { try RunManifest.read(from: ($0 as NSString).appendingPathComponent("run.json")) }
        let settings = manifests[0].settings
        for (folder, manifest) in zip(folders, manifests) {
            guard manifest.settings == settings else {
                throw ReportError(path: folder + "/run.json", reason: "its settings differ from those of \(first): not shards of one run")
            }
            guard manifest.model.sha256 == manifests[0].model.sha256 else {
                throw ReportError(path: folder + "/run.json", reason: "made with another model file than \(first)")
            }
        }
        let byData = settings.data.count > 1
        let key = { (config: String, data: String) in config + "\n" + data }
        var owner: [String: (folder: String, job: RunManifest.Job)] = [:]
        for (folder, manifest) in zip(folders, manifests) {
            for job in manifest.jobs {
                if let other = owner[key(job.config, job.data)] {
                    throw ReportError(path: folder, reason: "job '\(job.config)' on \(job.data) is also in \(other.folder)")
                }
                owner[key(job.config, job.data)] = (folder, job)
            }
        }
        let jobs = settings.jobs
        for job in jobs where owner[key(job.config.text, job.data)] == nil {
            throw ReportError(path: out, reason: "job '\(job.config.text)' on \(job.data) is in none of the folders: a shard is missing")
        }

        let work = (out as NSString).appendingPathComponent(".streamppl-merge")
        try RunExecutor.createFolder(out)
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let logPaths = Dictionary(uniqueKeysWithValues: jobs.map {
            (key($0.config.text, $0.data), (work as NSString).appendingPathComponent(String(format: "job-%03d.csv", $0.index)))
        })
        var logs: [String: JobLog] = [:]
        for (name, path) in logPaths { logs[name] = try JobLog(path: path, keepingBytes: 0) }
        for folder in folders {
            let name = settings.logFormat == .gz ? "nll.csv.gz" : "nll.csv"
            try splitLog((folder as NSString).appendingPathComponent(name), byData: byData, defaultData: settings.data[0]) { config, data, row in
                guard let log = logs[key(config, data)] else {
                    throw ReportError(path: (folder as NSString).appendingPathComponent(name), reason: "row of an unknown job '\(config)' on \(data)")
                }
                try log.append(row: row)
            }
        }
        for log in logs.values { _ = try log.sync() }

        let reports = jobs.compactMap { job -> JobReport? in
            let name = key(job.config.text, job.data)
            guard let entry = owner[name], let path = logPaths[name] else { return nil }
            return JobReport(config: job.config.text, data: job.data, logPath: path, rowLimit: settings.maxTokens ?? .max, result: entry.job.result)
        }
        let title = "Perplexity along the stream: " + settings.data.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ")
        // The shards' model file (its hash checked against theirs) gives the tokenizer for the covered text.
        let modelSHA256 = try SHA256.hexDigest(ofFile: settings.model)
        guard modelSHA256 == manifests[0].model.sha256 else {
            throw ReportError(path: settings.model, reason: "is not the model file the shards were made with (its sha256 differs from run.json's)")
        }
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: settings.model))
        let results = try RunReport.write(reports, to: out, byData: byData, model: settings.model, modelSHA256: modelSHA256,
                                          tokenizer: tokenizer, compressedLog: settings.logFormat == .gz, title: title)
        var manifest = RunManifest(command: command, model: manifests[0].model, dataFiles: manifests[0].dataFiles, settings: settings, shard: nil,
                                   jobs: jobs.compactMap { owner[key($0.config.text, $0.data)]?.job }, started: started, finished: Date())
        manifest.complete = manifests.allSatisfy(\.complete) && results.allSatisfy(\.complete)
        try manifest.write(to: (out as NSString).appendingPathComponent("run.json"))
        return RunExecutor.Outcome(manifest: manifest, results: results)
    }

    /// Reads a run's per-token log (gzip or plain: zlib reads both) and hands each row's job and its
    /// `doc,position,token,nll` part to `body`.
    private static func splitLog(_ path: String, byData: Bool, defaultData: String,
                                 _ body: (String, String, String) throws -> Void) throws {
        guard let file = gzopen(path, "rb") else { throw ReportError(path: path, reason: "cannot open") }
        defer { gzclose(file) }
        var reader = CSVRecordReader(path: path)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        let expectedFields = byData ? 6 : 5
        func handle(_ record: CSVRecord) throws {
            guard record.line > 1 else { return }
            guard record.fields.count == expectedFields else {
                throw ReportError(path: path, reason: "line \(record.line): \(record.fields.count) fields, expected \(expectedFields)")
            }
            try body(record.fields[0], byData ? record.fields[5] : defaultData, record.fields[1 ... 4].joined(separator: ","))
        }
        while true {
            let count = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            guard count >= 0 else { throw ReportError(path: path, reason: "damaged gzip data") }
            guard count > 0 else { break }
            for record in try reader.read(chunk[0 ..< Int(count)]) { try handle(record) }
        }
        guard Dataset.gzipEndedWhole(file) else { throw ReportError(path: path, reason: "gzip data ends early (truncated file)") }
        if let record = try reader.finish() { try handle(record) }
    }
}
