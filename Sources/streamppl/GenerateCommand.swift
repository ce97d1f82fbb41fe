import ArgumentParser
import Foundation
import StreamPPL

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "The paper's streaming chat: prompts answered one after another in one conversation, in constant memory.",
        discussion: """
        Prompts come from --prompts FILE (JSON Lines, a "turns" array of strings per line: the MT-Bench question \
        format; every turn goes into the one conversation) or, without it, from stdin, one prompt per line. Each is \
        written in the model's chat template (chatml for SmolLM2-Instruct and Qwen2.5, gemma for Gemma-3; --template \
        none feeds raw text), prefilled in chunks, and answered one token at a time, printed as it comes: greedy by \
        default, sampled with --temperature/--top-p/--seed. An answer stops at the model's end of turn or after \
        --max-new-tokens. Before a prompt, an x+y cache evicts its oldest tokens to make room for the prompt and the \
        answer budget, as the paper's demo does; dense keeps everything and grows.

        --json prints one JSON object per turn on stdout (turn, prompt_ids, generated_ids, text, cache_tokens, stop, \
        timings) instead of the text; --stats adds a line per turn on stderr. --out DIR keeps DIR/CONFIG/turns.csv \
        and transcript.md and draws memory.svg, speed.svg and repetition.svg over every config in DIR. \
        --total-tokens N goes through the prompt file as often as it takes to generate N tokens. Ctrl-C ends the \
        answer under way and stops (exit 130).

        Examples:
          streamppl generate --prompts datasets/chat/prompts.jsonl --cache 4+1020 --stats
          streamppl generate --prompts datasets/chat/prompts.jsonl --cache 4+1020 --total-tokens 100000 --out results/chat
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "JSON Lines file of prompts (a \"turns\" array per line); default: stdin, a prompt per line.")
    var prompts: String?

    @Option(name: .long, parsing: .unconditional, help: "Cache config: dense, x+y, 0+y, x\"s\"+y, h2o:H+R or tova:N.")
    var cache = "4+1020"

    @Option(name: .long, help: "Chat template: auto (the GGUF's, if it is one of the understood ones), chatml, gemma or none.")
    var template = "auto"

    @Option(name: .long, help: "System message (chatml: default the model template's own; gemma: none). An empty string for none.")
    var system: String?

    @Option(name: .long, help: "Most tokens per answer.")
    var maxNewTokens = 256

    @Option(name: .long, parsing: .unconditional, help: "Sampling temperature; 0 (default) is greedy.")
    var temperature = 0.0

    @Option(name: .long, parsing: .unconditional, help: "Nucleus sampling: the smallest set of likeliest tokens whose probability reaches this, in (0, 1].")
    var topP = 1.0

    @Option(name: .long, help: "Seed of the sampler.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Tokens per forward pass when prefilling a prompt.")
    var chunkSize = 256

    @Flag(name: .long, help: "A line per turn on stderr: tokens in the cache, prefill and decode tokens/s, resident memory.")
    var stats = false

    @Flag(name: .long, help: "One JSON object per turn on stdout instead of the text.")
    var json = false

    @Option(name: .long, help: "Generate this many tokens in all, going through the prompt file as often as it takes.")
    var totalTokens: Int?

    @Option(name: .long, help: "Folder for DIR/CONFIG/turns.csv and transcript.md, and charts over every config in DIR.")
    var out: String?

    func run() throws {
        var interrupted = false
        do {
            let config = try CacheConfig(cache)
            let sampler = try Sampler(temperature: temperature, topP: topP, seed: seed)
            guard maxNewTokens > 0 else { throw fail("--max-new-tokens must be at least 1, found \(maxNewTokens)") }
            guard chunkSize > 0 else { throw fail("--chunk-size must be at least 1, found \(chunkSize)") }
            if let totalTokens, totalTokens < 1 { throw fail("--total-tokens must be at least 1, found \(totalTokens)") }
            let fromFile = try prompts.map { path throws in try PromptFile.read(path: path) }
            let gguf = try modelOptions.openModelFile()
            let chosen: ChatTemplate
            if template == "auto" {
                chosen = ChatTemplate.detect(in: gguf)
            } else {
                guard let named = ChatTemplate(rawValue: template) else {
                    throw fail("--template must be auto, \(ChatTemplate.allCases.map(\.rawValue).joined(separator: ", ")), found \(template)")
                }
                chosen = named
            }
            let systemMessage = system.map { $0.isEmpty ? nil : $0 } ?? (chosen == .chatml ? ChatTemplate.defaultSystemMessage(in: gguf) : nil)
            let conversation = try Conversation(model: try ModelRegistry.load(gguf), tokenizer: try Tokenizer(gguf: gguf), config: config,
                                                template: chosen, system: systemMessage, sampler: sampler, chunkSize: chunkSize)
            if stats { FileHandle.standardError.write(Data("generate: template \(chosen.rawValue), cache \(config.text)\n".utf8)) }
            var report = try out.map { folder throws in try ChatReport(folder: folder, config: config.text, model: modelOptions.model, template: chosen) }
            Interrupt.install()
            // With --total-tokens, the prompt file starts over until that many tokens are generated.
            let passes = totalTokens == nil ? 1 : Int.max
            var lines = fromFile.map { prompts in (0 ..< passes).lazy.flatMap { _ in prompts }.makeIterator() }
            var generated = 0, generatedBeforePass = 0
            // Unbuffered, so that the answer shows as it comes and stays in order with the prompts and stderr.
            func write(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            while !Interrupt.requested, generated < totalTokens ?? .max, let prompt = lines != nil ? lines!.next() : readLine() {
                if !json { write("> \(prompt)\n\n") }
                let budget = min(maxNewTokens, (totalTokens ?? .max) - generated)
                let turn = conversation.respond(to: prompt, maxNewTokens: budget, shouldStop: { Interrupt.requested }) { piece in
                    if !json { write(piece) }
                }
                generated += turn.generatedIDs.count
                write(json ? String(decoding: try encoder.encode(turn), as: UTF8.self) + "\n" : "\n\n")
                if stats { FileHandle.standardError.write(Data((Self.statistics(turn) + "\n").utf8)) }
                report?.record(turn, prompt: prompt)
                // Rewritten every 10 turns (the transcript grows to megabytes), so a killed run keeps nearly all of it.
                if let report, turn.turn % 10 == 0 { try report.write(status: "incomplete: stopped after turn \(turn.turn)") }
                interrupted = turn.stop == .interrupted
                if let count = fromFile?.count, turn.turn % count == 0 {
                    guard generated > generatedBeforePass else { throw fail("--total-tokens: a whole pass over \(prompts ?? "") generated no token") }
                    generatedBeforePass = generated
                }
            }
            interrupted = interrupted || Interrupt.requested
            if let report, let out {
                try report.write(status: interrupted ? "incomplete: interrupted after turn \(report.rows.count)" : "complete")
                try ChatReport.plots(in: out)
            }
        } catch let error as ExitCode { throw error } catch { throw fail(error) }
        if interrupted { throw ExitCode(130) }
    }

    static func statistics(_ turn: Turn) -> String {
        func rate(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "-" }
        return "turn \(turn.turn): \(turn.cacheTokens) tokens in cache, prefill \(rate(turn.prefillTokensPerSecond)) tok/s "
            + "(\(turn.promptIDs.count) tokens), decode \(rate(turn.decodeTokensPerSecond)) tok/s (\(turn.generatedIDs.count) tokens, "
            + "\(turn.stop.rawValue)), resident \(turn.residentBytes.map { String(format: "%.0f MB", Double($0) / 1e6) } ?? "unknown")"
    }
}
