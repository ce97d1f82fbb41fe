import Foundation
import XCTest

/// Where tests find the repository, the committed fixtures and the fetched models.
enum TestPaths {
    /// The package root, from this file's location (Tests/StreamPPLTests/Support/).
    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0 ..< 4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The reference fixtures committed in `Fixtures/reference` (PROVENANCE.md there says where they come from),
    /// or the folder `STREAMPPL_FIXTURES` names: the repository stands alone.
    static let fixtures: String = ProcessInfo.processInfo.environment["STREAMPPL_FIXTURES"]
        ?? repository + "/Tests/StreamPPLTests/Fixtures/reference"

    static let models: String = ProcessInfo.processInfo.environment["STREAMPPL_MODELS"] ?? repository + "/models"

    static let smolLM2 = models + "/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let gemma3 = models + "/gemma-3-270m-q4_k_m.gguf"
    static let qwen2 = models + "/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"

    /// A model file that must exist: CI fetches it, so a missing one fails instead of skipping the test.
    static func requireModel(_ path: String, fetch name: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("\(path) is missing: run scripts/fetch-model.sh \(name)")
            throw XCTSkip("model missing")
        }
        return path
    }

    static func fixture(_ name: String) throws -> String {
        let path = fixtures + "/" + name
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("fixture \(path) is missing (set STREAMPPL_FIXTURES)")
            throw XCTSkip("fixture missing")
        }
        return path
    }

    /// A fixture of one number per line.
    static func numbers(_ name: String) throws -> [Double] {
        try String(contentsOfFile: fixture(name), encoding: .utf8).split(whereSeparator: \.isNewline).compactMap { Double($0) }
    }
}
