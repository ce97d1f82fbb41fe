import Foundation
import XCTest
@testable import StreamPPL

/// `generate`'s greedy answers against llama.cpp's (Fixtures/reference/llamacpp/README.md): the same prompts in one
/// conversation, the model's own chat template rendered by jinja2, the same room made before each turn and the same
/// eviction after each step; the fed and generated token ids must be equal.
final class GenerationReferenceTests: XCTestCase {
    struct ReferenceTurn: Decodable {
        var config: String
        var turn: Int
        var prompt: String
        var promptIDs: [Int32]
        var generatedIDs: [Int32]
        var cacheTokens: Int
        var stop: Turn.Stop

        enum CodingKeys: String, CodingKey {
            case config, turn, prompt, stop
            case promptIDs = "prompt_ids", generatedIDs = "generated_ids", cacheTokens = "cache_tokens"
        }
    }

    func assertMatchesLlamaCpp(model path: String, fetch name: String) throws {
        let gguf = try GGUFFile(path: try TestPaths.requireModel(path, fetch: name))
        let model = try ModelRegistry.load(gguf), tokenizer = try Tokenizer(gguf: gguf)
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let text = try String(contentsOfFile: try TestPaths.fixture("llamacpp/\(stem).chat.jsonl"), encoding: .utf8)
        let reference = try text.split(separator: "\n").map { try JSONDecoder().decode(ReferenceTurn.self, from: Data($0.utf8)) }
        var configs: [String] = []
        for turn in reference where !configs.contains(turn.config) { configs.append(turn.config) }
        XCTAssertGreaterThan(configs.count, 1)
        var answers: [String: [[Int32]]] = [:]
        for config in configs {
            let conversation = try Conversation(model: model, tokenizer: tokenizer, config: try CacheConfig(config), template: ChatTemplate.detect(in: gguf),
                                                system: ChatTemplate.defaultSystemMessage(in: gguf), sampler: try Sampler())
            for expected in reference where expected.config == config {
                let turn = conversation.respond(to: expected.prompt, maxNewTokens: 128)
                let label = "\(stem) \(config) turn \(expected.turn)"
                XCTAssertEqual(turn.promptIDs, expected.promptIDs, "\(label): the fed tokens")
                XCTAssertEqual(turn.generatedIDs, expected.generatedIDs, "\(label): the answer")
                XCTAssertEqual(turn.stop, expected.stop, label)
                XCTAssertEqual(turn.cacheTokens, expected.cacheTokens, "\(label): tokens held")
                answers[config, default: []].append(turn.generatedIDs)
            }
        }
        // The evicting configs must answer differently from dense somewhere, or matching them would not test eviction.
        for config in configs where config != "dense" {
            XCTAssertNotEqual(answers[config], answers["dense"], "\(stem): \(config) and dense must differ")
        }
    }

    func testSmolLM2AnswersAsLlamaCpp() throws {
        try assertMatchesLlamaCpp(model: TestPaths.smolLM2, fetch: "smollm2")
    }

    /// Qwen2.5's template is the long one with tools; the system message it adds by itself must be found in it.
    func testQwen2AnswersAsLlamaCpp() throws {
        try assertMatchesLlamaCpp(model: TestPaths.qwen2, fetch: "qwen2")
    }
}
