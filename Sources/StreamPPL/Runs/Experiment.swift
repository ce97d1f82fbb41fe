import Foundation

/// One of the paper's experiments as data (`experiments/NAME.json`), redone by `streamppl reproduce NAME`
/// into `results/NAME/`.
public struct Experiment: Decodable, Sendable {
    public enum Kind: String, Decodable, Sendable {
        /// Streams datasets under cache configs: a `run`.
        case stream
        /// Figure 2: `streamppl attention` over `sequences` sequences of `length` tokens.
        case attention
        /// Figure 10: `streamppl latency` at each of `cache-sizes`, recompute:L vs 4+(L-4).
        case latency
    }

    public var name = ""
    public let title: String
    /// What the experiment shows and how it differs from the paper's setup (printed into its summary).
    public let notes: String?
    public let kind: Kind
    public let data: [String]?
    public let cache: [String]?
    public let maxTokens: Int?
    /// The corpus streamed this many times over, for a stream longer than it.
    public let repeats: Int?
    public let chunkSize: Int?
    public let sequences: Int?
    public let length: Int?
    public let cacheSizes: [Int]?
    /// Timed tokens per streaming point, and per re-computation point (one per cache size: a pass over L tokens
    /// per token costs seconds at large L).
    public let tokens: Int?
    public let recomputeTokens: [Int]?

    enum CodingKeys: String, CodingKey {
        case title, notes, kind, data, cache, sequences, length, tokens
        case maxTokens = "max-tokens"
        case repeats = "repeat"
        case chunkSize = "chunk-size"
        case cacheSizes = "cache-sizes"
        case recomputeTokens = "recompute-tokens"
    }

    /// Reads `folder/NAME.json`.
    public static func load(_ name: String, from folder: String) throws -> Experiment {
        let path = (folder as NSString).appendingPathComponent(name + ".json")
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReproductionError.noSuchExperiment(path: path)
        }
        do {
            var experiment = try JSONDecoder().decode(Experiment.self, from: data)
            experiment.name = name
            switch experiment.kind {
            case .stream:
                try experiment.settings(model: RunSettings.defaultModel).validate()
            case .attention:
                guard (experiment.sequences ?? 0) >= 1, (experiment.length ?? 0) >= 2 else {
                    throw RunSettingsError(reason: "an attention experiment needs sequences >= 1 and length >= 2")
                }
            case .latency:
                guard let sizes = experiment.cacheSizes, !sizes.isEmpty, sizes.allSatisfy({ $0 > 4 }), (experiment.tokens ?? 0) >= 1,
                      experiment.recomputeTokens?.count == sizes.count, experiment.recomputeTokens?.allSatisfy({ $0 >= 1 }) == true else {
                    throw RunSettingsError(reason: "a latency experiment needs cache-sizes (each > 4), tokens >= 1 and one recompute-tokens entry per size")
                }
            }
            return experiment
        } catch let error as RunSettingsError {
            throw ReportError(path: path, reason: error.reason)
        } catch {
            throw ReportError(path: path, reason: "not an experiment file: \(error)")
        }
    }

    /// The experiments in `folder`, by name.
    public static func names(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }
            .map { String($0.dropLast(5)) }.sorted()
    }

    public func settings(model: String) -> RunSettings {
        RunSettings(model: model, data: data ?? [RunSettings.defaultData], caches: cache ?? [], maxTokens: maxTokens, repeats: repeats,
                    chunkSize: chunkSize ?? 256)
    }
}
