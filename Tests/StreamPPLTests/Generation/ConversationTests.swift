import XCTest
@testable import StreamPPL

/// `generate`'s conversation: the templates around each turn, the room made before a prompt, and an answer that does
/// not depend on how the prompt was chunked.
final class ConversationTests: XCTestCase {
    private func tiny() throws -> (any LanguageModel, Tokenizer) {
        let (gguf, model) = try TinyLlama.model()
        return (model, try Tokenizer(gguf: gguf))
    }

    func testChatMLTurnsAndTheModelsOwnSystemMessage() throws {
        let gguf = try GGUFFile(path: try TestPaths.requireModel(TestPaths.smolLM2, fetch: "smollm2"))
        XCTAssertEqual(ChatTemplate.detect(in: gguf), .chatml)
        XCTAssertEqual(ChatTemplate.defaultSystemMessage(in: gguf), "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        let tokenizer = try Tokenizer(gguf: gguf)
        let first = ChatTemplate.chatml.turn("Hi", system: "Be brief.", first: true)
        XCTAssertEqual(first, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(ChatTemplate.chatml.turn("Hi", system: "Be brief.", first: false), "<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let start = try XCTUnwrap(tokenizer.controlToken("<|im_start|>")), end = try XCTUnwrap(tokenizer.controlToken("<|im_end|>"))
        let ids = tokenizer.encode(first, parsingControlTokens: true)
        XCTAssertEqual(ids.filter { $0 == start }.count, 3, "markers are single control tokens")
        XCTAssertEqual(ids.filter { $0 == end }.count, 2)
        XCTAssertEqual(ids.first, start)
        XCTAssertFalse(tokenizer.encode(first).contains(start), "in a document the markers stay text")
        XCTAssertEqual(ChatTemplate.gemma.turn("Hi", system: "Be brief.", first: true),
                       "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n")
    }

    func testAnXPlusYConversationMakesRoomBeforeEachPromptAndNeverHoldsMore() throws {
        let (model, tokenizer) = try tiny()
        let conversation = try Conversation(model: model, tokenizer: tokenizer, config: try CacheConfig("2+30"), template: .none, system: nil,
                                            sampler: try Sampler())
        var held: [Int] = []
        for prompt in ["the first prompt ", "and a second one, longer than the first ", "third"] {
            let turn = conversation.respond(to: prompt, maxNewTokens: 8)
            XCTAssertEqual(turn.generatedIDs.count, 8, "the tiny model has no end of turn")
            XCTAssertLessThanOrEqual(turn.cacheTokens, 32)
            held.append(turn.cacheTokens)
        }
        // Turn 2 (41 + 8 tokens) needs more room than the window: the sinks and what it feeds stay, capped at 2 + 30.
        XCTAssertEqual(held[1], 32)
        // Before turn 3 (6 tokens + 8), room for 14: 2 sinks + 16 kept, then 14 fed.
        XCTAssertEqual(held[2], 32)
    }

    /// The prompt's chunks are the chunked path's passes (METHOD.md §3): one token per pass gives the same answer.
    func testTheAnswerDoesNotDependOnHowThePromptIsChunked() throws {
        let (model, tokenizer) = try tiny()
        var answers: [[[Int32]]] = []
        for chunk in [1, 5, 256] {
            let conversation = try Conversation(model: model, tokenizer: tokenizer, config: try CacheConfig("4+40"), template: .none, system: nil,
                                                sampler: try Sampler(), chunkSize: chunk)
            answers.append(["It was the best of times, it was the worst of times, ", "the age of wisdom "].map {
                conversation.respond(to: $0, maxNewTokens: 12).generatedIDs
            })
        }
        XCTAssertEqual(answers[0], answers[1])
        XCTAssertEqual(answers[0], answers[2])
    }

    func testSamplingIsSeededAndTopPOfAlmostZeroIsGreedy() throws {
        let logits: [Float] = [0.1, 2.0, 1.9, -1.0]
        var greedy = try Sampler()
        XCTAssertEqual(logits.withUnsafeBufferPointer { greedy.next(logits: $0.baseAddress!, count: 4) }, 1)
        var narrow = try Sampler(temperature: 1, topP: 1e-6, seed: 3)
        XCTAssertEqual((0 ..< 20).map { _ in logits.withUnsafeBufferPointer { narrow.next(logits: $0.baseAddress!, count: 4) } }, Array(repeating: 1, count: 20))
        func draws(_ seed: UInt64) throws -> [Int32] {
            var sampler = try Sampler(temperature: 1, topP: 1, seed: seed)
            return (0 ..< 50).map { _ in logits.withUnsafeBufferPointer { sampler.next(logits: $0.baseAddress!, count: 4) } }
        }
        XCTAssertEqual(try draws(7), try draws(7))
        XCTAssertEqual(Set(try draws(7)).count, 4, "temperature 1 reaches every token in 50 draws")
        for (temperature, topP) in [(0.0, 0.0), (0.0, 1.5), (0.0, -1.0), (-1.0, 1.0)] {
            XCTAssertThrowsError(try Sampler(temperature: temperature, topP: topP))
        }
    }

    func testTextArrivesInWholeCharacters() {
        var buffer = UTF8Buffer()
        let snowman = Array("☃".utf8)   // 3 bytes
        XCTAssertEqual(buffer.append([UInt8(ascii: "a")] + snowman.prefix(2)), "a")
        XCTAssertEqual(buffer.append(Array(snowman.suffix(1)) + [UInt8(ascii: "b")]), "☃b")
        XCTAssertEqual(buffer.append([0xE2]), "")
        XCTAssertEqual(buffer.flush(), "\u{FFFD}")
    }

    func testPromptFilesAreJSONLinesWithTurns() throws {
        let folder = try TemporaryFiles.directory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func read(_ text: String) -> String {
            let path = folder + "/p.jsonl"
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
            do { return try PromptFile.read(path: path).joined(separator: "|") } catch { return "\(error)".replacingOccurrences(of: folder, with: "") }
        }
        XCTAssertEqual(read("{\"turns\": [\"a\", \"b\"]}\n\n{\"id\": 2, \"turns\": [\"c\"]}\n"), "a|b|c")
        XCTAssertEqual(read("{\"turns\": [\"a\"]}\nnot json\n"), "/p.jsonl: line 2: not JSON (each line must be one JSON object, as in JSON Lines)")
        XCTAssertEqual(read("{\"turns\": []}"), "/p.jsonl: line 1: \"turns\" is empty")
        XCTAssertEqual(read("{\"prompt\": \"a\"}"), "/p.jsonl: line 1: expected an object with a \"turns\" array of strings")
        XCTAssertEqual(read("{\"turns\": [\"a\", 3]}"), "/p.jsonl: line 1: every item of \"turns\" must be a non-empty string")
        XCTAssertEqual(read("\n\n"), "/p.jsonl: no prompts (expected JSON Lines with a \"turns\" array per line)")
    }
}
