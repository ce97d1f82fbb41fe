import Foundation

/// Carries out a run: its (config x dataset) jobs, or one shard of them, each in a job folder of its own
/// (`EvaluationJob`), then the outputs of METHOD.md §4 and `run.json` in `out`.
///
/// Job folders live in `out/.streamppl/` (removed once every job has finished) or, for `reproduce`, in a
/// shared store where a finished job is kept and serves any later run that needs a prefix of its stream.
public final class RunExecutor {
    public enum JobPlacement: Sendable {
        /// `out/.streamppl/job-N`, with the run's settings in `out/.streamppl/plan.json` for `--resume`.
        case runFolder
        /// `store/<hash of the job's inputs>`, kept after the run.
        case store(String)
    }

    public struct Outcome {
        public let manifest: RunManifest
        public let results: [ConfigResult]
        public var complete: Bool { manifest.complete }
    }

    public let settings: RunSettings
    public let shard: Shard?
    public let out: String
    public let placement: JobPlacement
    public let checkpointInterval: TimeInterval
    /// Jobs evaluated side by side, the cores shared out among them (`run --jobs`).
    public let parallelJobs: Int
    public let command: [String]
    /// Where progress and notices go (the library prints nothing).
    public let events: RunEvents?

    public init(settings: RunSettings, shard: Shard? = nil, out: String, placement: JobPlacement = .runFolder,
                checkpointInterval: TimeInterval = 60, parallelJobs: Int = 1, command: [String] = CommandLine.arguments, events: RunEvents? = nil) {
        self.settings = settings
        self.shard = shard
        self.out = out
        self.placement = placement
        self.checkpointInterval = checkpointInterval
        self.parallelJobs = parallelJobs
        self.command = command
        self.events = events
    }

    private var workFolder: String { (out as NSString).appendingPathComponent(".streamppl") }

    /// What `--resume` checks: a folder is only continued by the run (and the tool version) that started it.
    private struct Plan: Codable, Equatable {
        let settings: RunSettings
        let modelSHA256: String
        let dataFiles: [RunManifest.HashedFile]
        let shard: Shard?
        let version: String
    }

    /// Runs the jobs not finished yet (all of them unless `resume`) and writes the outputs, partial ones too
    /// when `shouldStop` ends it early.
    public func execute(resume: Bool, title: String, shouldStop: @escaping () -> Bool = { false }) throws -> Outcome {
        let started = Date()
        try settings.validate()
        let gguf = try GGUFFile(path: settings.model)
        let datasets = try Dictionary(uniqueKeysWithValues: settings.data.map { ($0, try Dataset(path: $0, repeats: settings.repeatCount)) })
        let tokenizer = try Tokenizer(gguf: gguf)
        let evaluator = Evaluator(model: try ModelRegistry.load(gguf), tokenizer: tokenizer)
        let modelSHA256 = try SHA256.hexDigest(ofFile: settings.model)
        // Per dataset, its files and their hashes.
        let filesByData = try settings.data.map { data in
            try (datasets[data]?.files ?? []).map { RunManifest.HashedFile(path: $0, sha256: try SHA256.hexDigest(ofFile: $0)) }
        }
        let dataFiles = filesByData.flatMap { $0 }
        let jobs = settings.jobs.filter { shard?.selects($0) ?? true }
        // Before any folder is made or job run: a job that cannot fit in memory fails now, not hours in.
        for job in jobs { try evaluator.checkMemory(for: job.config, options: settings.evaluationOptions) }
        try Self.createFolder(out)
        let lock = try FolderLock(lockingFor: out, in: lockFolder)
        defer { lock.release() }
        let resumeJobs = try prepareWorkFolder(Plan(settings: settings, modelSHA256: modelSHA256, dataFiles: dataFiles, shard: shard,
                                                    version: StreamPPLVersion.current), resume: resume)

        let tokenByToken = Set(jobs.map(\.config).filter(\.policy.evictsByAttention).map(\.text))
        if !settings.exactTokenByToken, !tokenByToken.isEmpty {
            events?.notice(.tokenByTokenPolicies(configs: settings.caches.map(\.text).filter(tokenByToken.contains)))
        }
        let byData = settings.data.count > 1
        let events = self.events.map(SerializedEvents.init)
        let wanted = settings.maxTokens ?? .max
        func evaluationJob(_ job: RunJob) -> EvaluationJob {
            let folder = jobFolder(job, modelSHA256: modelSHA256, dataHashes: filesByData[settings.data.firstIndex(of: job.data) ?? 0].map(\.sha256))
            return EvaluationJob(directory: folder, config: job.config)
        }
        // Read (and their logs checked) once, before any job starts: a finished job whose log was damaged since is an
        // error now, not after the others ran.
        let finishedResults = try jobs.map { job throws in resumeJobs ? try evaluationJob(job).finishedResult() : nil }
        /// One job, from its folder's finished result or by evaluating it (continuing its checkpoint when resuming).
        func run(_ index: Int, stopped: @escaping () -> Bool) throws -> JobReport {
            let job = jobs[index], evaluation = evaluationJob(job)
            let result: EvaluationJob.Result
            if let finished = finishedResults[index], finished.covers(wanted) {
                result = finished
            } else {
                guard let dataset = datasets[job.data] else { throw ReportError(path: job.data, reason: "not among the datasets read for this run") }
                let label = job.config.text + (byData ? " on \(job.data)" : "")
                result = try evaluation.run(evaluator: evaluator, dataset: dataset, options: settings.evaluationOptions, resume: resumeJobs,
                                            checkpointInterval: checkpointInterval, shouldStop: stopped, progressLabel: label,
                                            reportProgress: { events?.progress($0) },
                                            reportResumed: { events?.notice(.resumingJob(job: label, predictions: $0)) })
            }
            if let skipped = result.skippedDocuments, !skipped.isEmpty {
                events?.notice(.skippedDocuments(config: job.config.text, data: job.data, documents: skipped))
            }
            return JobReport(config: job.config.text, data: job.data, logPath: evaluation.logPath, rowLimit: wanted, result: result)
        }
        // One job at a time, each job's peak memory is its own; side by side it is the process's.
        let reports = try SideBySide.run(Array(jobs.indices), slots: parallelJobs, shouldStop: shouldStop) { index, stopped in
            if parallelJobs == 1 { MachineInfo.resetPeakResidentBytes() }
            return try run(index, stopped: stopped)
        }
        let manifestJobs = reports.map { RunManifest.Job(config: $0.config, data: $0.data, result: $0.result) }
        let results = try RunReport.write(reports, to: out, byData: byData, model: settings.model, modelSHA256: modelSHA256,
                                          tokenizer: tokenizer, compressedLog: settings.logFormat == .gz, title: title)
        var manifest = RunManifest(command: command, model: .init(path: settings.model, sha256: modelSHA256), dataFiles: dataFiles,
                                   settings: settings, shard: shard, jobs: manifestJobs, started: started, finished: Date())
        manifest.complete = results.allSatisfy(\.complete) && manifestJobs.count == jobs.count
        try manifest.write(to: (out as NSString).appendingPathComponent("run.json"))
        if manifest.complete, case .runFolder = placement { try? FileManager.default.removeItem(atPath: workFolder) }
        return Outcome(manifest: manifest, results: results)
    }

    /// Makes the run's work folder ready; returns whether jobs may continue from what is in their folders.
    private func prepareWorkFolder(_ plan: Plan, resume: Bool) throws -> Bool {
        guard case .runFolder = placement else { return true }
        let planPath = (workFolder as NSString).appendingPathComponent("plan.json")
        if resume, let data = FileManager.default.contents(atPath: planPath) {
            guard (try? JSONDecoder().decode(Plan.self, from: data)) == plan else {
                throw RunFolderError.otherRun(plan: planPath, folder: out)
            }
            return true
        }
        if FileManager.default.fileExists(atPath: planPath) {
            events?.notice(.discardingInterruptedRun(folder: out))
        }
        try? FileManager.default.removeItem(atPath: workFolder)
        try FileManager.default.createDirectory(atPath: workFolder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try DurableFile.write([UInt8](try encoder.encode(plan)), to: planPath)
        return false
    }

    /// Makes the folder `path` and its parents. A plain one-line error (e.g. "out/x: exists and is not a folder")
    /// instead of Foundation's NSCocoaErrorDomain text.
    static func createFolder(_ path: String) throws(ReportError) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: prefix, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else { throw ReportError(path: prefix, reason: "exists and is not a folder") }
                continue
            }
            guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else {
                throw ReportError(path: prefix, reason: "cannot create the folder: " + String(cString: strerror(errno)))
            }
        }
    }

    /// `path` with `..` and symbolic links resolved, also for a folder not made yet (its nearest existing parent is
    /// resolved), so that two spellings of one folder compare equal.
    static func resolvedPath(_ path: String) -> String {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        var missing: [String] = []
        while !FileManager.default.fileExists(atPath: url.path), url.pathComponents.count > 1 {
            missing.insert(url.lastPathComponent, at: 0)
            url.deleteLastPathComponent()
        }
        guard let real = realpath(url.path, nil) else { return url.path }
        defer { free(real) }
        return ([String(cString: real)] + missing).joined(separator: "/")
    }

    /// Where concurrent runs on the same folders would trip over each other: the run folder, or the whole store.
    private var lockFolder: String {
        switch placement {
        case .runFolder: out
        case let .store(store): store
        }
    }

    private func jobFolder(_ job: RunJob, modelSHA256: String, dataHashes: [String]) -> String {
        switch placement {
        case .runFolder:
            return (workFolder as NSString).appendingPathComponent(String(format: "job-%03d", job.index))
        case let .store(store):
            // Everything that decides the job's rows except the budget: a longer run of the same job serves a shorter
            // one. Not the tool's version: after a change to the numerics, remove the store. A repeated corpus is a
            // longer stream than the finished once-through job, so it is a job of its own.
            let key = [modelSHA256, job.config.text, job.data] + dataHashes
                + [String(settings.chunkSize), String(settings.exactTokenByToken), settings.positions.rawValue]
                + (settings.repeatCount > 1 ? ["repeats \(settings.repeatCount)"] : [])
            return (store as NSString).appendingPathComponent(String(SHA256.hexDigest(of: Array(key.joined(separator: "\n").utf8)).prefix(24)))
        }
    }
}

/// An exclusive lock on a folder (`flock` on `.lock` inside it) for as long as a run works there: two processes
/// extending the same job would cut each other's logs.
struct FolderLock {
    private let descriptor: Int32

    init(lockingFor user: String, in folder: String) throws {
        try RunExecutor.createFolder(folder)
        let path = (folder as NSString).appendingPathComponent(".lock")
        descriptor = open(path, O_RDWR | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw ReportError(path: path, reason: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw ReportError(path: path, reason: "another streamppl process is working on \(user)")
        }
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

/// Hands the events of jobs running side by side to `events` one at a time (a terminal draws one line at a time).
private final class SerializedEvents: RunEvents {
    private let events: RunEvents
    private let lock = NSLock()

    init(_ events: RunEvents) { self.events = events }

    func progress(_ progress: JobProgress) {
        lock.lock()
        defer { lock.unlock() }
        events.progress(progress)
    }

    func notice(_ notice: RunNotice) {
        lock.lock()
        defer { lock.unlock() }
        events.notice(notice)
    }
}
