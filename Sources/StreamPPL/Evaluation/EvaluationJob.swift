import Foundation

/// One (cache config, dataset) evaluation with a folder of its own, so it can stop at any point and go on:
/// `log.csv` (one row `doc,position,token,nll` per prediction, in order), `checkpoint` (the state at the last
/// saved pass boundary), and `result.json` once the stream or the prediction budget has ended.
public final class EvaluationJob {
    public let directory: String
    public let config: CacheConfig

    /// How a finished (or stopped) job went; the timing fields vary from run to run, the predictions do not.
    public struct Result: Sendable, Codable, Equatable {
        public var predictions: Int
        /// The budget it ran with; fewer predictions than that means the data ran out.
        public var maxPredictions: Int
        public var seconds: Double
        public var peakResidentBytes: Int?
        public var memory: [MemorySample]
        /// False when stopped before the stream or the budget ended.
        public var complete: Bool
        /// Documents passed over because they have fewer than the two tokens a prediction needs, in stream order
        /// (nil in files written before they were recorded).
        public var skippedDocuments: [Int]?
        /// Per layer, per KV head, which of the stream's first `earlyTokenCount` tokens the cache held when the job
        /// ended: does a policy keep the sinks? (nil for re-computation, stopped jobs and older files.)
        public var earlyTokensKept: [[[Int]]]?

        public static let earlyTokenCount = 16

        /// Whether the first `count` predictions of a stream are all here.
        public func covers(_ count: Int) -> Bool { complete && (predictions >= count || predictions < maxPredictions) }
    }

    public static let memorySampleInterval = 8192

    public init(directory: String, config: CacheConfig) {
        self.directory = directory
        self.config = config
    }

    public var logPath: String { (directory as NSString).appendingPathComponent("log.csv") }
    private var checkpointPath: String { (directory as NSString).appendingPathComponent("checkpoint") }
    private var resultPath: String { (directory as NSString).appendingPathComponent("result.json") }

    /// `result.json`: the result and the log it was drawn from, so that a log lost or changed since is caught.
    private struct FinishedRecord: Codable {
        var result: Result
        var logBytes: Int
        var logCRC32: UInt32
    }

    /// The result of a finished job, if this folder holds one; an error when its log is no longer the one it
    /// finished with (deleted, cut or edited), since the outputs are drawn from that log.
    public func finishedResult() throws(ReportError) -> Result? {
        guard let data = FileManager.default.contents(atPath: resultPath),
              let record = try? JSONDecoder().decode(FinishedRecord.self, from: data) else { return nil }
        guard FileManager.default.fileExists(atPath: logPath) else { throw damagedLog("is missing, but its job finished") }
        guard let log = JobLog.checksum(ofFileAt: logPath), log == (record.logBytes, record.logCRC32) else {
            throw damagedLog("is not the log its job finished with (\(record.logBytes) bytes, CRC-32 \(Self.hex(record.logCRC32)))")
        }
        return record.result
    }

    /// The error for a log that no longer matches what its checkpoint or result recorded. Not a silent restart:
    /// a changed log means a damaged disk or a hand edit, which the user should hear of; the way out is named.
    private func damagedLog(_ problem: String) -> ReportError {
        ReportError(path: logPath, reason: "\(problem); remove the folder \(directory) to redo this job alone")
    }

    private static func hex(_ crc: UInt32) -> String { String(format: "%08x", crc) }

    /// Gives the pages of freed memory back to the system. glibc keeps freed blocks of a few hundred KB (a checkpoint's
    /// layers, read or written) in its heap for reuse: a resumed job held ~80 MB more than one that never stopped
    /// (SmolLM2 at 4+1020: 919 against 839 MB). Called after a checkpoint is restored (its snapshot is freed once the
    /// cache holds it) and after one is written, a resumed job holds 827 MB against 835.
    private static func returnFreedMemory() { _ = mallocTrim?(0) }

    /// glibc's `malloc_trim`, looked up at run time: Swift's Glibc module leaves out malloc.h, other C libraries lack it.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = dlsym(nil, "malloc_trim").map {
        unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self)
    }

    /// Evaluates the job's stream, continuing from the saved checkpoint when `resume` and one is there (the log
    /// is cut back to it), else from the start. A checkpoint is saved after a whole pass once `checkpointInterval`
    /// seconds have passed since the last (and at least 20 times as long as writing the last one took, so a large
    /// cache costs under 5% of the time), and when `shouldStop` turns true.
    public func run(evaluator: Evaluator, dataset: Dataset, options: EvaluationOptions, resume: Bool, checkpointInterval: TimeInterval,
                    shouldStop: @escaping () -> Bool, progressLabel: String,
                    reportProgress: @escaping (JobProgress) -> Void = { _ in }, reportResumed: (Int) -> Void = { _ in }) throws -> Result {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var saved = resume ? try JobCheckpoint.read(from: checkpointPath) : nil
        if !resume { try? FileManager.default.removeItem(atPath: checkpointPath) }
        try? FileManager.default.removeItem(atPath: resultPath)
        if saved != nil, !FileManager.default.fileExists(atPath: logPath) { throw damagedLog("is missing, but its checkpoint is there") }
        let log: JobLog
        do { log = try JobLog(path: logPath, keepingBytes: saved?.logBytes ?? 0) } catch { throw saved == nil ? error : damagedLog(error.reason) }
        if let saved, let expected = saved.logCRC32, expected != log.checksum {
            throw damagedLog("its first \(saved.logBytes) bytes changed since its checkpoint (CRC-32 \(Self.hex(log.checksum)), "
                + "the checkpoint has \(Self.hex(expected)))")
        }
        var statistics = NLLStatistics()
        try JobLog.forEachRow(of: logPath) { _, nll in statistics.add(nll) }
        if let saved, statistics.count != saved.state.stream.predictions {
            throw damagedLog("holds \(statistics.count) predictions, its checkpoint says \(saved.state.stream.predictions)")
        }
        if saved != nil { reportResumed(statistics.count) }

        var memory = saved?.memory ?? []
        let priorSeconds = saved?.seconds ?? 0
        let segmentStart = Date()
        var lastCheckpoint = segmentStart
        var checkpointCost: TimeInterval = 0
        let progress = ProgressReporter(label: progressLabel, total: options.maxPredictions == .max ? nil : options.maxPredictions,
                                        alreadyDone: statistics.count, sink: reportProgress)
        var skipped: [Int] = []
        var earlyTokensKept: [[[Int]]]?
        var restoredBlocksFreed = saved != nil
        let stopped = try evaluator.evaluate(config, dataset: dataset, options: options, resumingFrom: saved.take()?.state,
                                             shouldStop: shouldStop, checkpoint: { makeState in
            // After the first pass the restored checkpoint's blocks are all freed (the cache grows its own on that pass).
            if restoredBlocksFreed {
                restoredBlocksFreed = false
                Self.returnFreedMemory()
            }
            let now = Date()
            guard shouldStop() || now.timeIntervalSince(lastCheckpoint) >= max(checkpointInterval, 20 * checkpointCost) else { return }
            let logBytes = try log.sync()
            try JobCheckpoint(state: makeState(), logBytes: logBytes, seconds: priorSeconds + now.timeIntervalSince(segmentStart),
                              memory: memory, logCRC32: log.checksum).write(to: self.checkpointPath)
            Self.returnFreedMemory()
            lastCheckpoint = Date()
            checkpointCost = lastCheckpoint.timeIntervalSince(now)
        }, skipped: { skipped = $0 }, ended: { earlyTokensKept = $0.keptStreamIndices(below: Result.earlyTokenCount) }) { prediction in
            // A NaN or infinite NLL means the model's numbers broke down (its weights or hyper-parameters):
            // no perplexity can be reported.
            guard prediction.nll.isFinite else {
                throw EvaluationError.nonFiniteNLL(model: evaluator.model.file.path, prediction: prediction, number: statistics.count + 1)
            }
            try log.append(prediction)
            statistics.add(prediction.nll)
            progress.update(predictions: statistics.count, meanNLL: statistics.meanNLL)
            if statistics.count % Self.memorySampleInterval == 0, let rss = MachineInfo.residentBytes() {
                memory.append(MemorySample(predictions: statistics.count, residentBytes: rss))
            }
        }
        if !stopped, statistics.count == 0 { throw EvaluationError.noPredictions(data: dataset.path) }
        let logBytes = try log.sync()
        progress.finish(predictions: statistics.count, meanNLL: statistics.meanNLL)
        let result = Result(predictions: statistics.count, maxPredictions: options.maxPredictions,
                            seconds: priorSeconds + Date().timeIntervalSince(segmentStart),
                            peakResidentBytes: MachineInfo.peakResidentBytes(), memory: memory, complete: !stopped,
                            skippedDocuments: skipped, earlyTokensKept: earlyTokensKept)
        if !stopped {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let record = FinishedRecord(result: result, logBytes: logBytes, logCRC32: log.checksum)
            try DurableFile.write([UInt8]((try? encoder.encode(record)) ?? Data()), to: resultPath)
            // A job that reached its budget before the data ran out keeps its last checkpoint: a longer run of it
            // continues from there.
            if statistics.count < options.maxPredictions { try? FileManager.default.removeItem(atPath: checkpointPath) }
        }
        return result
    }
}
