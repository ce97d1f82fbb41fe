import Foundation
import XCTest
@testable import StreamPPL

/// `streamppl generate` through the executable: JSON per turn, and one-line errors for bad prompts and settings.
final class GenerateCommandTests: CLITestCase {
    private func prompts(_ text: String) throws -> String {
        let path = try keep(TemporaryFiles.directory()) + "/prompts.jsonl"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testJSONTurnsFromAPromptFile() throws {
        let file = try prompts("{\"turns\": [\"one\", \"two\"]}\n{\"turns\": [\"three\"]}\n")
        let outcome = try run(["generate", "--model", try tinyLlama(), "--prompts", file, "--cache", "2+30", "--template", "none",
                               "--max-new-tokens", "5", "--json", "--stats"])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        let turns = try outcome.stdout.split(separator: "\n").map { try JSONDecoder().decode(Turn.self, from: Data($0.utf8)) }
        XCTAssertEqual(turns.map(\.turn), [1, 2, 3])
        XCTAssertTrue(turns.allSatisfy { $0.generatedIDs.count == 5 && $0.stop == .maxNewTokens && $0.cacheTokens <= 32 })
        XCTAssertEqual(turns[1].promptIDs.count, 4, "\"\\ntwo\": the raw template separates prompts by a newline")
        XCTAssertEqual(outcome.stderr.split(separator: "\n").filter { $0.hasPrefix("turn ") }.count, 3, "--stats: a line per turn")
    }

    /// --total-tokens goes through the file again until the count is reached, the last answer cut to fit; --out keeps
    /// each config's turns and draws every config of the folder.
    func testTotalTokensAndOutFolder() throws {
        let file = try prompts("{\"turns\": [\"one\", \"two\"]}\n"), out = try keep(TemporaryFiles.directory())
        for (cache, total) in [("2+30", 12), ("dense", 7)] {
            let outcome = try run(["generate", "--model", try tinyLlama(), "--prompts", file, "--cache", cache, "--template", "none",
                                   "--max-new-tokens", "5", "--total-tokens", String(total), "--out", out, "--json"])
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
            let turns = try outcome.stdout.split(separator: "\n").map { try JSONDecoder().decode(Turn.self, from: Data($0.utf8)) }
            XCTAssertEqual(turns.map(\.generatedIDs.count), total == 12 ? [5, 5, 2] : [5, 2], cache)
        }
        let rows = try ChatReport.readRows(out + "/2+30/turns.csv")
        XCTAssertEqual(rows.map(\.turn), [1, 2, 3])
        XCTAssertEqual(rows.map(\.generatedTotal), [5, 10, 12])
        XCTAssertEqual(rows.map(\.stop), ["max-new-tokens", "max-new-tokens", "max-new-tokens"])
        XCTAssertEqual(try String(contentsOfFile: out + "/2+30/status.txt", encoding: .utf8), "complete\n")
        let transcript = try String(contentsOfFile: out + "/2+30/transcript.md", encoding: .utf8)
        XCTAssertEqual(transcript.components(separatedBy: "\n> one\n").count, 3, "the first prompt again in turn 3")
        let memory = try String(contentsOfFile: out + "/memory.svg", encoding: .utf8)
        XCTAssertTrue(memory.contains(">2+30<") && memory.contains(">dense<"), "both configs of the folder are drawn")
        for chart in ["speed.svg", "repetition.svg"] { XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + chart), chart) }
    }

    func testBadPromptsAndSettingsAreOneLineErrors() throws {
        let model = try tinyLlama(), good = try prompts("{\"turns\": [\"one\"]}\n")
        let cases: [([String], [String])] = [
            (["--prompts", try prompts("one\ntwo\n")], ["prompts.jsonl", "line 1", "not JSON"]),
            (["--prompts", try prompts("{\"turns\": []}\n")], ["line 1", "\"turns\" is empty"]),
            (["--prompts", good, "--top-p", "0"], ["--top-p", "(0, 1]"]),
            (["--prompts", good, "--top-p", "1.5"], ["--top-p"]),
            (["--prompts", good, "--top-p", "-0.2"], ["--top-p"]),
            (["--prompts", good, "--temperature", "-1"], ["--temperature"]),
            (["--prompts", good, "--cache", "recompute:64"], ["recompute:64", "re-computation"]),
            (["--prompts", good, "--cache", "tova:0"], ["tova:0"]),
            (["--prompts", good, "--template", "llama2"], ["--template", "llama2"]),
            (["--prompts", good, "--template", "chatml"], ["<|im_end|>", "--template none"]),
            (["--prompts", good, "--max-new-tokens", "0"], ["--max-new-tokens"]),
            (["--prompts", good, "--total-tokens", "0"], ["--total-tokens", "at least 1"]),
            (["--prompts", "/nonexistent/p.jsonl"], ["/nonexistent/p.jsonl"]),
        ]
        for (arguments, mentions) in cases {
            assertOneLineFailure(try run(["generate", "--model", model] + arguments), mentions: mentions, arguments.joined(separator: " "))
        }
    }
}
