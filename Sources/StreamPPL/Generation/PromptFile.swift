import Foundation

/// The prompts of `generate --prompts FILE`: JSON Lines, one object per line with a `turns` array of strings (the
/// MT-Bench question format; blank lines are skipped). Every turn of every line goes into the one conversation, in order.
public enum PromptFile {
    public static func read(path: String) throws(PromptFileError) -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw PromptFileError(path: path, line: nil, reason: "cannot read the file") }
        guard let text = String(data: data, encoding: .utf8) else { throw PromptFileError(path: path, line: nil, reason: "not UTF-8 text") }
        var prompts: [String] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            func fail(_ reason: String) -> PromptFileError { PromptFileError(path: path, line: index + 1, reason: reason) }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) else {
                throw fail("not JSON (each line must be one JSON object, as in JSON Lines)")
            }
            guard let fields = object as? [String: Any], let turns = fields["turns"] as? [Any] else {
                throw fail("expected an object with a \"turns\" array of strings")
            }
            guard !turns.isEmpty else { throw fail("\"turns\" is empty") }
            guard let strings = turns as? [String], strings.allSatisfy({ !$0.isEmpty }) else {
                throw fail("every item of \"turns\" must be a non-empty string")
            }
            prompts += strings
        }
        guard !prompts.isEmpty else { throw PromptFileError(path: path, line: nil, reason: "no prompts (expected JSON Lines with a \"turns\" array per line)") }
        return prompts
    }
}

public struct PromptFileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let line: Int?
    public let reason: String
    public var description: String { "\(path)\(line.map { ": line \($0)" } ?? ""): \(reason)" }
}
