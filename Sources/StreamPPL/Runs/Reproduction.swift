import Foundation

/// `reproduce`: the paper's experiments (`experiments/NAME.json`) redone into `results/NAME/`, each folder with a
/// `summary.md` saying what the experiment shows and how it was made.
///
/// Stream experiments keep their jobs in `results/.jobs`, so an interrupted reproduction continues where it stopped
/// and a job that already ran over a longer stream serves the experiments that need a prefix of it. Attention maps
/// (Figure 2) and latency points (Figure 10) are measured by `tools`, in processes of their own: a point's peak
/// memory must be its own.
public struct Reproduction {
    /// Figure 2 over `sequences` windows of `length` tokens of `data`, its files written into `out`.
    public struct AttentionRequest: Sendable, Equatable {
        public let model: String
        public let data: String
        public let sequences: Int
        public let length: Int
        public let out: String
    }

    /// One point of Figure 10: `config` timed over `tokens` predictions of `data`.
    public struct LatencyRequest: Sendable, Equatable {
        public let model: String
        public let data: String
        public let config: String
        public let tokens: Int
    }

    /// What runs outside this process.
    public struct Tools {
        /// Writes the attention files and returns the per-layer table the attention command prints.
        public var attention: (AttentionRequest) throws -> String
        public var latency: (LatencyRequest) throws -> LatencyMeasurement

        public init(attention: @escaping (AttentionRequest) throws -> String, latency: @escaping (LatencyRequest) throws -> LatencyMeasurement) {
            self.attention = attention
            self.latency = latency
        }
    }

    public let model: String
    /// The folder the results go to, one subfolder per experiment.
    public let results: String
    public let tools: Tools
    public let events: RunEvents?

    public init(model: String, results: String, tools: Tools, events: RunEvents? = nil) {
        self.model = model
        self.results = results
        self.tools = tools
        self.events = events
    }

    /// The experiments `names` of `folder` (`all`: every one there; a group's name: each of its experiments), longest
    /// first: shorter ones then read prefixes of the same jobs.
    public static func experiments(_ names: [String], in folder: String) throws -> [Experiment] {
        let wanted = names == ["all"] ? Experiment.names(in: folder) : names.flatMap { Experiment.group($0, in: folder) ?? [$0] }
        var loaded = try wanted.map { try Experiment.load($0, from: folder) }
        loaded.sort { ($0.stream.maxTokens ?? .max) > ($1.stream.maxTokens ?? .max) }
        return loaded
    }

    /// Redoes `experiments` in order; false when `shouldStop` ended it early (the experiment under way then gets no
    /// `summary.md`; rerunning continues it).
    public func run(_ experiments: [Experiment], shouldStop: @escaping () -> Bool = { false }) throws -> Bool {
        for experiment in experiments {
            guard !shouldStop() else { return false }
            guard try reproduce(experiment, shouldStop: shouldStop) else { return false }
        }
        return true
    }

    /// Redoes one experiment into `results/NAME/`; false when `shouldStop` ended it early.
    public func reproduce(_ experiment: Experiment, shouldStop: @escaping () -> Bool = { false }) throws -> Bool {
        events?.notice(.experimentStarted(name: experiment.name, title: experiment.title))
        let out = (results as NSString).appendingPathComponent(experiment.name)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let data = experiment.firstDataset
        let summary: String
        switch experiment.kind {
        case .stream:
            let executor = RunExecutor(settings: experiment.settings(model: model), out: out,
                                       placement: .store((results as NSString).appendingPathComponent(".jobs")), events: events)
            _ = try executor.execute(resume: true, title: experiment.title, shouldStop: shouldStop)
            summary = try String(contentsOfFile: (out as NSString).appendingPathComponent("summary.md"), encoding: .utf8)
        case .attention:
            let table = try tools.attention(AttentionRequest(model: model, data: data, sequences: experiment.sequences ?? 256,
                                                             length: experiment.length ?? 16, out: out))
            summary = "```\n" + table + "```\n"
        case .latency:
            summary = try measureLatency(experiment, data: data, out: out, shouldStop: shouldStop)
        }
        guard !shouldStop() else { return false }
        try DurableFile.write(Self.summary(of: experiment, results: summary), to: (out as NSString).appendingPathComponent("summary.md"))
        return true
    }

    /// `summary.md` of an experiment: its title, its notes, where it comes from, then its results.
    public static func summary(of experiment: Experiment, results: String) -> String {
        "# \(experiment.title)\n\n" + (experiment.notes.map { $0 + "\n\n" } ?? "")
            + "Made by `streamppl reproduce \(experiment.name)` from `experiments/\(experiment.name).json`.\n\n" + results
    }

    /// Figure 10: per cache size, `recompute:L` then `4+(L-4)`; writes `latency.csv`, `latency.svg`, `memory.svg`.
    private func measureLatency(_ experiment: Experiment, data: String, out: String, shouldStop: () -> Bool) throws -> String {
        var points: [LatencySweep.Point] = []
        for (size, recomputeTokens) in zip(experiment.cacheSizes ?? [], experiment.recomputeTokens ?? []) where !shouldStop() {
            let configs = LatencySweep.configs(cacheSize: size)
            let recompute = try tools.latency(LatencyRequest(model: model, data: data, config: configs.recompute, tokens: recomputeTokens))
            let streaming = try tools.latency(LatencyRequest(model: model, data: data, config: configs.streaming, tokens: experiment.tokens ?? 256))
            let point = LatencySweep.Point(cacheSize: size, recompute: recompute, streaming: streaming)
            events?.notice(.latencyPointMeasured(point))
            points.append(point)
        }
        let sweep = LatencySweep(points: points)
        func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
        try DurableFile.write(sweep.csv, to: path("latency.csv"))
        try DurableFile.write(sweep.latencySVG, to: path("latency.svg"))
        try DurableFile.write(sweep.memorySVG, to: path("memory.svg"))
        return "Machine: \(MachineInfo.description)\n\n" + sweep.markdown
    }
}

/// Why a reproduction cannot start.
public enum ReproductionError: Error, CustomStringConvertible, Equatable {
    /// No experiment file at `path`.
    case noSuchExperiment(path: String)

    public var description: String {
        switch self {
        case let .noSuchExperiment(path): "\(path): no such experiment"
        }
    }
}
