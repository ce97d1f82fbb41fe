import Dispatch
import Foundation
import StreamPPLKernels

/// What a run would do, without doing it (`run --dry-run`): its jobs (or one shard's), the predictions each scores, and
/// the wall time and peak memory each would take on this machine, from a short timed evaluation per path: what sizing a
/// Slurm array needs.
///
/// Time: each job's useful floating-point work (`FLOPCount`, attention included) divided by the GFLOP/s its path reached in
/// the calibration, on the threads the job will have (`--jobs`). Memory: this process after the calibration (the model,
/// its weights as the passes read them, BLAS's buffers), plus the job's cache and pass buffers (`Evaluator.requiredBytes`),
/// for `dense` the keys, values and scores its buffers will have grown to (`StreamingCache.unboundedGrowth`), and a copy of
/// what its cache holds when the job runs long enough to write a checkpoint.
public struct RunPlan: Sendable, Codable {
    public struct Job: Sendable, Codable, Equatable {
        public let index: Int
        public let config: String
        public let data: String
        public let predictions: Int
        /// How the job is evaluated: `chunked`, `token-by-token` or `recompute`.
        public let path: String
        public let seconds: Double
        public let peakBytes: Int
    }

    /// One timed evaluation per path the jobs take.
    public struct Calibration: Sendable, Codable, Equatable {
        public let path: String
        public let config: String
        public let predictions: Int
        public let seconds: Double
        public let gigaflops: Double
    }

    public let jobs: [Job]
    public let calibrations: [Calibration]
    public let parallelJobs: Int
    public let threadsPerJob: Int
    /// Jobs taken in order by `parallelJobs` slots, each slot starting its next job when its last one ends.
    public let wallSeconds: Double
    /// This process's resident memory after the calibration plus the largest caches that run at the same time.
    public let peakBytes: Int
    public let machine: String

    /// Counts, calibrates and estimates the jobs of `settings` (of `shard`, when given) run `parallelJobs` at a time.
    public static func make(settings: RunSettings, shard: Shard?, parallelJobs: Int, checkpointInterval: TimeInterval) throws -> RunPlan {
        try settings.validate()
        let gguf = try GGUFFile(path: settings.model)
        let evaluator = Evaluator(model: try ModelRegistry.load(gguf), tokenizer: try Tokenizer(gguf: gguf))
        let options = settings.evaluationOptions
        let jobs = settings.jobs.filter { shard?.selects($0) ?? true }
        var datasets: [String: Dataset] = [:]
        var predictions: [String: Int] = [:]
        for data in Set(jobs.map(\.data)) {
            let dataset = try Dataset(path: data, repeats: settings.repeatCount)
            datasets[data] = dataset
            predictions[data] = try count(dataset, tokenizer: evaluator.tokenizer, maxPredictions: options.maxPredictions)
        }
        let slots = max(1, min(parallelJobs, jobs.count))
        let threads = max(1, Parallel.cores / slots)
        var calibrations: [String: Calibration] = [:]
        let previousWorkers = Parallel.workers
        Parallel.workers = threads
        defer { Parallel.workers = previousWorkers }
        for job in jobs {
            let path = Self.path(of: job.config, options: options)
            guard calibrations[path] == nil, let dataset = datasets[job.data] else { continue }
            calibrations[path] = try calibrate(job.config, path: path, evaluator: evaluator, dataset: dataset, options: options)
        }
        // Measured after the calibration: the model, its weights as the passes read them and BLAS's buffers are resident.
        let baseBytes = MachineInfo.residentBytes() ?? 0
        let flops = FLOPCount(config: evaluator.model.config)
        let layout = evaluator.model.config
        let floatBytes = MemoryLayout<Float>.size
        let tokenBytes = layout.layerCount * 2 * layout.keyValueSize * floatBytes   // one token's keys and values
        let planned = try jobs.map { job -> Job in
            let path = Self.path(of: job.config, options: options)
            let count = predictions[job.data] ?? 0
            guard let rate = calibrations[path]?.gigaflops, rate > 0 else { throw ReportError(path: job.data, reason: "too short to time a pass") }
            let seconds = flops.stream(predictions: count, policy: job.config.policy) / (rate * 1e9)
            var extra = evaluator.requiredBytes(for: job.config, options: options) ?? .max
            var heldTokens = min(job.config.policy.keptTokens ?? count, count)
            switch job.config.policy {
            case .dense where path == "chunked":
                let grown = StreamingCache.unboundedGrowth(after: count, passTokens: options.chunkSize, heads: layout.headCount)
                extra += grown.rows * tokenBytes + grown.scorePeakFloats * floatBytes
            case .dense:
                extra += 2 * count * tokenBytes   // at most: buffers that double as they grow
            case .recompute: heldTokens = 0   // its checkpoint holds token ids, not keys and values
            default: break
            }
            if seconds > checkpointInterval { extra += heldTokens * tokenBytes }
            return Job(index: job.index, config: job.config.text, data: job.data, predictions: count, path: path,
                       seconds: seconds, peakBytes: baseBytes + extra)
        }
        // Slots take jobs in order, as `SideBySide` does.
        var slotEnds = Array(repeating: 0.0, count: slots)
        var running: [(end: Double, bytes: Int)] = []
        var peak = baseBytes
        for job in planned {
            let slot = slotEnds.indices.min { slotEnds[$0] < slotEnds[$1] } ?? 0
            let start = slotEnds[slot]
            slotEnds[slot] = start + job.seconds
            running = running.filter { $0.end > start } + [(slotEnds[slot], job.peakBytes - baseBytes)]
            peak = max(peak, baseBytes + running.reduce(0) { $0 + $1.bytes })
        }
        return RunPlan(jobs: planned, calibrations: calibrations.values.sorted { $0.path < $1.path }, parallelJobs: slots, threadsPerJob: threads,
                       wallSeconds: slotEnds.max() ?? 0, peakBytes: peak, machine: MachineInfo.description)
    }

    /// The path a config's job takes (METHOD.md §2-§3).
    static func path(of config: CacheConfig, options: EvaluationOptions) -> String {
        if case .recompute = config.policy { return "recompute" }
        return options.exactTokenByToken || config.policy.evictsByAttention ? "token-by-token" : "chunked"
    }

    /// Predictions the stream of `dataset` scores, at most `maxPredictions`.
    static func count(_ dataset: Dataset, tokenizer: Tokenizer, maxPredictions: Int) throws -> Int {
        var stream = TokenStream(dataset: dataset, maxPredictions: maxPredictions, tokenize: tokenizer.encodeDocument)
        var count = 0
        while let fed = stream.next() { if fed.target != nil { count += 1 } }
        if let error = stream.error { throw error }
        return count
    }

    /// A few passes of `config` on the start of `dataset`: 2 chunks on the chunked path after an untimed one, 32 tokens token
    /// by token, 2 re-computation passes.
    private static func calibrate(_ config: CacheConfig, path: String, evaluator: Evaluator, dataset: Dataset,
                                  options: EvaluationOptions) throws -> Calibration {
        let predictions: Int
        switch config.policy {
        case let .recompute(_, stride): predictions = 2 * stride
        default: predictions = path == "chunked" ? 2 * options.chunkSize : 32
        }
        let benchmark = ThroughputBenchmark(evaluator: evaluator, dataset: dataset)
        // The first chunk is not timed: it pays for first touches of the weights and buffers, which a long job pays once.
        let warmup = path == "chunked" ? options.chunkSize : 0
        let measured = try benchmark.measure(config, predictions: predictions, warmup: warmup, passSize: options.chunkSize,
                                             exact: options.exactTokenByToken)
        return Calibration(path: path, config: config.text, predictions: measured.predictions, seconds: measured.seconds, gigaflops: measured.gigaflops)
    }

    public var markdown: String {
        func hours(_ seconds: Double) -> String {
            seconds < 3600 ? String(format: "%.1f min", seconds / 60) : String(format: "%.1f h", seconds / 3600)
        }
        func gigabytes(_ bytes: Int) -> String { String(format: "%.2f GB", Double(bytes) / 1e9) }
        var lines = ["# streamppl run --dry-run", "", "Machine: \(machine)  ",
                     "Jobs side by side: \(parallelJobs), \(threadsPerJob) thread(s) each", "",
                     "| job | config | data | predictions | path | time (estimate) | peak memory (estimate) |",
                     "|---:|---|---|---:|---|---:|---:|"]
        for job in jobs {
            lines.append("| \(job.index) | `\(job.config)` | \(job.data) | \(job.predictions) | \(job.path) | \(hours(job.seconds)) | \(gigabytes(job.peakBytes)) |")
        }
        lines += ["", "All \(jobs.count) job(s): \(hours(wallSeconds)) of wall time, at most \(gigabytes(peakBytes)) resident.", "",
                  "Calibration (timed on this machine, the estimates scale their useful GFLOP/s):", ""]
        for calibration in calibrations {
            lines.append("- \(calibration.path): `\(calibration.config)`, \(calibration.predictions) predictions in "
                + String(format: "%.2f s, %.1f GFLOP/s", calibration.seconds, calibration.gigaflops))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
