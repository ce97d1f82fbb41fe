import XCTest
@testable import StreamPPL

/// H2O and TOVA (METHOD.md §2b) against the float64 NumPy reference (scripts/numpy-reference-nll.py), on the tiny
/// models of three families: llama (two query heads per KV head, so H2O sums a group and its KV heads keep different
/// tokens), gemma3 (local layers: keys out of the window get no weight) and mpt (ALiBi), under both position modes.
final class EvictionByAttentionTests: XCTestCase {
    static let architectures = ["llama", "gemma3", "mpt"]
    static let configs = ["h2o:32+32", "tova:64", "4+60"]

    /// Measured on 2026-12-06 (this test prints them), the worst model, config and mode: mean |dNLL| 9.5e-7, max 6.6e-6;
    /// the bounds are about 5x that (the issue asked for 1e-4 and 1e-3).
    func testH2OAndTOVAMatchNumPyInBothPositionModes() throws {
        for architecture in Self.architectures {
            let path = TestPaths.fixtures + "/\(TinyReferenceTests.folder)/\(architecture).gguf.gz"
            let gguf = try Dataset.readBytes(path).withUnsafeBytes { try GGUFFile(bytes: $0, name: path) }
            let evaluator = Evaluator(model: try ModelRegistry.load(gguf), tokenizer: try Tokenizer(gguf: gguf))
            for positions in PositionMode.allCases {
                let log = try ReferenceLog.rows("\(TinyReferenceTests.folder)/\(architecture).numpy.by-attention.\(positions.rawValue).nll.csv.gz")
                var reference: [String: [Double]] = [:]
                for config in Self.configs {
                    let rows = log.filter { $0.config == config }
                    XCTAssertEqual(rows.count, TinyReferenceTests.predictions, "\(architecture) \(config) \(positions)")
                    let ours = try evaluator.predictions(config, data: TinyReferenceTests.text, predictions: TinyReferenceTests.predictions,
                                                         exact: true, positions: positions)
                    let label = "\(architecture) \(config) positions \(positions)"
                    let agreement = ReferenceLog.compare(ours, rows, label)
                    print("\(label) vs NumPy: mean |dNLL| \(agreement.meanAbsolute), max \(agreement.maximum)")
                    XCTAssertLessThanOrEqual(agreement.meanAbsolute, 5e-6, label)
                    XCTAssertLessThanOrEqual(agreement.maximum, 3.5e-5, label)
                    reference[config] = rows.map(\.nll)
                }
                // The policies must keep other tokens than x+y and than each other, or matching them proves nothing.
                for (a, b) in [("h2o:32+32", "4+60"), ("tova:64", "4+60"), ("h2o:32+32", "tova:64")] {
                    let apart = ReferenceFixtureTests.Agreement(reference[a] ?? [], reference[b] ?? []).meanAbsolute
                    print("\(architecture) positions \(positions) NumPy \(a) vs \(b): mean |dNLL| \(apart)")
                    XCTAssertGreaterThan(apart, 0.01, "\(architecture) \(positions): \(a) and \(b) must differ")
                }
            }
        }
    }
}

/// What the policies keep, read from the state they hand a checkpoint: H2O's KV heads choose for themselves, TOVA's
/// heads of a layer choose together, and neither keeps more than its budget.
final class EvictionByAttentionStateTests: XCTestCase {
    private func keptAfter(_ config: String, predictions: Int) throws -> KVCacheSnapshot {
        let (gguf, model) = try TinyLlama.model()
        let evaluator = Evaluator(model: model, tokenizer: try Tokenizer(gguf: gguf))
        var last: KVCacheSnapshot?
        try evaluator.evaluate(try CacheConfig(config), dataset: try Dataset(path: TinyReferenceTests.text),
                               options: EvaluationOptions(maxPredictions: predictions), checkpoint: { last = $0().cache }) { _ in }
        return try XCTUnwrap(last)
    }

    func testH2OKeyValueHeadsKeepTokensOfTheirOwn() throws {
        let state = try keptAfter("h2o:8+8", predictions: 200)
        let kept = try XCTUnwrap(state.keptByHead)
        XCTAssertEqual(kept.count, TinyLlama.layers * TinyLlama.kvHeads)
        XCTAssertTrue(kept.allSatisfy { $0.count == 16 }, "\(kept.map(\.count))")
        let recent = Array(state.fedCount - 8 ..< state.fedCount)
        XCTAssertTrue(kept.allSatisfy { Array($0.suffix(8)) == recent }, "every head keeps the 8 most recent: \(kept.map { $0.suffix(8) })")
        XCTAssertNotEqual(kept[0], kept[1], "the two KV heads of layer 0 keep different heavy hitters")
        XCTAssertEqual(state.scores?.map(\.count), kept.map(\.count))
    }

    func testTOVAHeadsOfALayerKeepTheSameTokens() throws {
        let state = try keptAfter("tova:16", predictions: 200)
        let kept = try XCTUnwrap(state.keptByHead)
        XCTAssertTrue(kept.allSatisfy { $0.count == 16 })
        XCTAssertEqual(kept[0], kept[1], "layer 0's KV heads")
        XCTAssertEqual(kept[2], kept[3], "layer 1's KV heads")
        XCTAssertNotEqual(kept[0], kept[2], "the layers choose for themselves")
        XCTAssertNil(state.scores)
    }
}
