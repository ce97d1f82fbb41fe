import XCTest
@testable import StreamPPL

/// Checkpoints (`run --resume`): an evaluation stopped at any pass boundary and continued from the state it
/// offered there scores exactly the predictions, bit for bit, of one that never stopped; and a prediction's
/// numbers do not depend on the prediction budget.
final class ResumeTests: TemporaryFilesTestCase {
    private func evaluator() throws -> Evaluator {
        let (gguf, model) = try TinyLlama.model()
        return Evaluator(model: model, tokenizer: try Tokenizer(gguf: gguf))
    }

    /// Two books, so resumed streams also cross a document boundary.
    private func twoBooks() throws -> Dataset {
        let folder = keep(try TemporaryFiles.directory())
        try Data(String(repeating: "One book, with its words. ", count: 6).utf8).write(to: URL(fileURLWithPath: folder + "/a.txt"))
        try Data(String(repeating: "Another book and other words! ", count: 8).utf8).write(to: URL(fileURLWithPath: folder + "/b.txt"))
        return try Dataset(path: folder)
    }

    private let cases: [(config: String, exact: Bool)] = [
        ("dense", false), ("2+14", false), ("0+16", false), ("2\"a\"+14", false), ("recompute:16/4", false),
        ("2+14", true), ("2\"a\"+14", true), ("recompute:16/4", true),
        // One token per pass: stopped after 17 of them, the cache has evicted (and H2O scored) for seven steps.
        ("h2o:4+6", false), ("tova:10", false),
    ]

    func testResumingFromAPassBoundaryGivesTheNumbersOfAnUninterruptedRun() throws {
        let evaluator = try evaluator(), dataset = try twoBooks()
        let checkpointPath = keep(try TemporaryFiles.directory()) + "/checkpoint"
        for (text, exact) in cases {
            let config = try CacheConfig(text)
            let options = EvaluationOptions(maxPredictions: 300, chunkSize: 8, exactTokenByToken: exact)
            var whole: [Prediction] = []
            try evaluator.evaluate(config, dataset: dataset, options: options) { whole.append($0) }
            XCTAssertEqual(whole.count, 300, text)
            for stopAfter in [1, 5, 17] {
                var saved: EvaluationState?
                var offers = 0
                var before: [Prediction] = []
                let stopped = try evaluator.evaluate(config, dataset: dataset, options: options, shouldStop: { saved != nil },
                                                     checkpoint: { state in
                    offers += 1
                    if offers == stopAfter { saved = state() }
                }) { before.append($0) }
                XCTAssertTrue(stopped, "\(text) stops after checkpoint \(stopAfter)")
                let state = try XCTUnwrap(saved)
                try JobCheckpoint(state: state, logBytes: 123, seconds: 4.5, memory: [MemorySample(predictions: 8, residentBytes: 9)])
                    .write(to: checkpointPath)
                let read = try XCTUnwrap(try JobCheckpoint.read(from: checkpointPath))
                XCTAssertEqual(read.state, state, "\(text): the checkpoint file gives back the state")
                XCTAssertEqual(read.logBytes, 123)
                var after: [Prediction] = []
                try evaluator.evaluate(config, dataset: dataset, options: options, resumingFrom: read.state) { after.append($0) }
                XCTAssertEqual(before + after, whole, "\(text)\(exact ? " token-by-token" : ""), stopped after checkpoint \(stopAfter)")
            }
        }
    }

    func testPredictionsDoNotDependOnTheBudget() throws {
        let evaluator = try evaluator(), dataset = try twoBooks()
        for text in ["dense", "2+14", "recompute:16/4"] {
            var short: [Prediction] = [], long: [Prediction] = []
            try evaluator.evaluate(try CacheConfig(text), dataset: dataset, options: EvaluationOptions(maxPredictions: 101, chunkSize: 8)) {
                short.append($0)
            }
            try evaluator.evaluate(try CacheConfig(text), dataset: dataset, options: EvaluationOptions(maxPredictions: 200, chunkSize: 8)) {
                long.append($0)
            }
            XCTAssertEqual(short.count, 101)
            XCTAssertEqual(short, Array(long.prefix(101)), text)
        }
    }

    func testAStateDoesNotFitAnotherConfig() throws {
        let evaluator = try evaluator(), dataset = try twoBooks()
        var saved: EvaluationState?
        try evaluator.evaluate(try CacheConfig("2+14"), dataset: dataset, options: EvaluationOptions(maxPredictions: 64, chunkSize: 8),
                               checkpoint: { state in saved = state() }) { _ in }
        XCTAssertThrowsError(try evaluator.evaluate(try CacheConfig("0+8"), dataset: dataset, options: EvaluationOptions(chunkSize: 8),
                                                    resumingFrom: try XCTUnwrap(saved)) { _ in }) { error in
            XCTAssertEqual(error as? EvaluationError, .stateDoesNotFit(config: "0+8"))
        }
    }

    func testADamagedCheckpointIsAnErrorNamingTheFile() throws {
        let evaluator = try evaluator(), dataset = try twoBooks()
        var saved: EvaluationState?
        try evaluator.evaluate(try CacheConfig("2+14"), dataset: dataset, options: EvaluationOptions(maxPredictions: 64, chunkSize: 8),
                               checkpoint: { state in saved = state() }) { _ in }
        let path = keep(try TemporaryFiles.directory()) + "/checkpoint"
        try JobCheckpoint(state: try XCTUnwrap(saved), logBytes: 0, seconds: 0, memory: []).write(to: path)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try JobCheckpoint.read(from: path)) { error in
            XCTAssertEqual("\(error)", "\(path): damaged checkpoint: checksum mismatch")
        }
        try Data(bytes.prefix(10)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try JobCheckpoint.read(from: path))
    }
}
