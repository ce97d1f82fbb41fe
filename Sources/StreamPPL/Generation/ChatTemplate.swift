/// How a conversation's turns are written for the model (`generate --template`). The templates understood are the two
/// the shipped chat models use, written out here rather than interpreted from the GGUF's Jinja text:
/// - `chatml` (SmolLM2-Instruct, Qwen2.5-Instruct): `<|im_start|>ROLE\nTEXT<|im_end|>\n` per message, the answer
///   after `<|im_start|>assistant\n`; a system message first, by default the one the model's own template adds when
///   the conversation has none (read from `tokenizer.chat_template`).
/// - `gemma` (Gemma-3): `<start_of_turn>user\nTEXT<end_of_turn>\n`, the answer after `<start_of_turn>model\n`; a system
///   text goes at the start of the first user turn, as Gemma's template does.
/// - `none`: the prompts as raw text, one after another.
public enum ChatTemplate: String, Sendable, CaseIterable {
    case chatml, gemma, none

    /// The template the GGUF's `tokenizer.chat_template` is written in, or `none` when it has none or another.
    public static func detect(in gguf: GGUFFile) -> ChatTemplate {
        guard let text = gguf.string("tokenizer.chat_template") else { return .none }
        if text.contains("<|im_start|>") { return .chatml }
        if text.contains("<start_of_turn>") { return .gemma }
        return .none
    }

    /// The system message a ChatML template adds when the conversation starts without one (SmolLM2: "You are a helpful
    /// AI assistant named SmolLM, ..."; Qwen2.5: "You are Qwen, ..."): the literal text of its `<|im_start|>system`
    /// branch that is not the user's own system message.
    public static func defaultSystemMessage(in gguf: GGUFFile) -> String? {
        guard let text = gguf.string("tokenizer.chat_template") else { return nil }
        var rest = Substring(text)
        while let start = rest.range(of: "<|im_start|>system") {
            rest = rest[start.upperBound...]
            var body = rest
            if body.hasPrefix("\\n") { body = body.dropFirst(2) } else if body.hasPrefix("\n") { body = body.dropFirst() } else { continue }
            guard let end = body.range(of: "<|im_end|>") else { return nil }
            let message = body[..<end.lowerBound]
            // A branch that splices in the user's message has quotes or `+` before the end marker.
            if !message.contains(where: { "'\"+{}".contains($0) }) { return String(message).replacingOccurrences(of: "\\n", with: "\n") }
        }
        return nil
    }

    /// The text of one user turn and the opening of the answer, parsed with control tokens (`Tokenizer.encode(_:
    /// parsingControlTokens:)`). `first`: the conversation's first turn; otherwise the previous answer is closed first.
    public func turn(_ prompt: String, system: String?, first: Bool) -> String {
        switch self {
        case .chatml:
            let opening = first ? (system.map { "<|im_start|>system\n\($0)<|im_end|>\n" } ?? "") : "<|im_end|>\n"
            return opening + "<|im_start|>user\n\(prompt)<|im_end|>\n<|im_start|>assistant\n"
        case .gemma:
            let opening = first ? "" : "<end_of_turn>\n"
            let text = first ? (system.map { "\($0)\n\n" } ?? "") + prompt : prompt
            return opening + "<start_of_turn>user\n\(text)<end_of_turn>\n<start_of_turn>model\n"
        case .none:
            return (first ? "" : "\n") + prompt
        }
    }

    /// The control token that ends an answer, besides the model's end of sequence.
    public var endOfTurn: String? {
        switch self {
        case .chatml: "<|im_end|>"
        case .gemma: "<end_of_turn>"
        case .none: nil
        }
    }
}
