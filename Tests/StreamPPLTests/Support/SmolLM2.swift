import XCTest
@testable import StreamPPL

/// The default real model, loaded once for every test that needs it.
enum SmolLM2 {
    static let evaluator: Result<Evaluator, Error> = Result {
        let gguf = try GGUFFile(path: try TestPaths.requireModel(TestPaths.smolLM2, fetch: "smollm2"))
        return Evaluator(model: try ModelRegistry.load(gguf), tokenizer: try Tokenizer(gguf: gguf))
    }

    static func evaluate(_ config: String, data: String, predictions: Int, exact: Bool = false,
                         positions: PositionMode = .cache) throws -> [Prediction] {
        try evaluator.get().predictions(config, data: data, predictions: predictions, exact: exact, positions: positions)
    }
}

extension Evaluator {
    /// The first `predictions` predictions of `config` on the dataset at `data`.
    func predictions(_ config: String, data: String, predictions: Int, exact: Bool = false,
                     positions: PositionMode = .cache) throws -> [Prediction] {
        var result: [Prediction] = []
        try evaluate(try CacheConfig(config), dataset: try Dataset(path: data),
                     options: EvaluationOptions(maxPredictions: predictions, exactTokenByToken: exact, positions: positions)) {
            result.append($0)
        }
        return result
    }
}
