import Dispatch
import StreamPPLKernels

/// Why a conversation cannot start or a prompt file cannot be read.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    case invalidSetting(flag: String, found: String, expected: String)
    /// `re-computation` keeps no cache to converse with.
    case unsupportedCache(config: String)
    /// The model's vocabulary lacks a control token the template writes.
    case templateToken(template: String, token: String, model: String)
    case sinkTextNotOneToken(config: String, tokens: Int)

    public var description: String {
        switch self {
        case let .invalidSetting(flag, found, expected): "--\(flag) must be \(expected), found \(found)"
        case let .unsupportedCache(config): "cache config '\(config)': re-computation keeps no cache to hold a conversation; use dense, x+y, h2o or tova"
        case let .templateToken(template, token, model): "\(model): the \(template) template needs the control token \(token), which the vocabulary does not have (--template none for raw text)"
        case let .sinkTextNotOneToken(config, tokens): "invalid cache config '\(config)': the sink string must encode to exactly one token, it encodes to \(tokens)"
        }
    }
}

/// One answer of a conversation.
public struct Turn: Sendable, Codable, Equatable {
    public enum Stop: String, Sendable, Codable {
        /// The model ended its answer (end of turn or of sequence).
        case endOfTurn = "end-of-turn"
        case maxNewTokens = "max-new-tokens"
        case interrupted
    }

    public var turn: Int
    /// The tokens fed for this turn: the closing of the previous answer, the template's turn around the prompt.
    public var promptIDs: [Int32]
    public var generatedIDs: [Int32]
    public var text: String
    /// Tokens in the cache once the answer is fed.
    public var cacheTokens: Int
    public var stop: Stop
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    public var residentBytes: Int?

    /// Tokens/s of the prompt's prefill and of the answer's decoding; nil when nothing was timed.
    public var prefillTokensPerSecond: Double? { prefillSeconds > 0 ? Double(promptIDs.count) / prefillSeconds : nil }
    public var decodeTokensPerSecond: Double? { decodeSeconds > 0 ? Double(generatedIDs.count) / decodeSeconds : nil }

    enum CodingKeys: String, CodingKey {
        case turn, text, stop
        case promptIDs = "prompt_ids", generatedIDs = "generated_ids", cacheTokens = "cache_tokens"
        case prefillSeconds = "prefill_seconds", decodeSeconds = "decode_seconds", residentBytes = "resident_bytes"
    }
}

/// The paper's streaming chat (`run_streaming_llama.py --enable_streaming`): every prompt goes into one conversation
/// whose cache is kept from turn to turn. Before a prompt, a `x+y` cache makes room for the prompt plus the answer
/// budget (the sinks and the most recent tokens stay), so the turn itself evicts nothing unless prompt and budget exceed
/// the window; h2o and tova evict by their own rule at every step; dense keeps everything. The prompt is fed in chunks,
/// the answer one token at a time, each token at its rank in the cache (METHOD.md §2).
public final class Conversation {
    public let model: any LanguageModel
    public let tokenizer: Tokenizer
    public let config: CacheConfig
    public let template: ChatTemplate
    public let system: String?
    private var sampler: Sampler
    private let cache: ResumableCache
    private let state: ForwardState
    private let stopTokens: Set<Int32>
    private var turns = 0
    /// The logits after the last token fed (row 0 of `state.logits`) are those the next answer starts from.
    private var pending: [Int32] = []

    public init(model: any LanguageModel, tokenizer: Tokenizer, config: CacheConfig, template: ChatTemplate, system: String?,
                sampler: Sampler, chunkSize: Int = 256) throws(GenerationError) {
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.template = template
        self.system = system
        self.sampler = sampler
        let shape = AttentionShape(config: model.config)
        let rotary = RotaryEmbedding(config: model.config)
        let local = LocalAttention(config: model.config), alibi = ALiBi(config: model.config)
        switch config.policy {
        case .recompute:
            throw .unsupportedCache(config: config.text)
        case let .heavyHitters(heavy, recent):
            cache = ScoredEvictionCache(shape: shape, rotary: rotary, rule: HeavyHitterEviction(heavy: heavy, recent: recent, shape: shape),
                                        local: local, alibi: alibi)
        case let .tova(capacity):
            cache = ScoredEvictionCache(shape: shape, rotary: rotary, rule: TOVAEviction(capacity: capacity, shape: shape), local: local, alibi: alibi)
        case .dense:
            cache = StreamingCache(shape: shape, rotary: rotary, sinks: 0, window: nil, local: local, alibi: alibi)
        case let .sinkWindow(sinks, window, sinkText):
            cache = StreamingCache(shape: shape, rotary: rotary, sinks: sinks, window: window, local: local, alibi: alibi)
            if let sinkText {
                let ids = tokenizer.encode(sinkText)
                guard ids.count == 1 else { throw .sinkTextNotOneToken(config: config.text, tokens: ids.count) }
                pending = Array(repeating: ids[0], count: sinks)
            }
        }
        state = ForwardState(config: model.config, capacity: config.policy.evictsByAttention ? 1 : chunkSize, scoredCapacity: 1)
        var stops = Set([tokenizer.eosID].compactMap { $0 })
        if let marker = template.endOfTurn {
            guard let id = tokenizer.controlToken(marker) else {
                throw .templateToken(template: template.rawValue, token: marker, model: model.file.path)
            }
            stops.insert(id)
        }
        stopTokens = stops
        if tokenizer.addsBOS, let bos = tokenizer.bosID { pending.append(bos) }
    }

    /// Tokens the cache holds now.
    public var cacheTokens: Int { cache.heldTokens }

    /// Feeds `prompt` as the next user turn and generates the answer: greedy or sampled, until the model ends its turn,
    /// `maxNewTokens` tokens, or `shouldStop` (checked between tokens). `onText` gets the answer's text as it comes
    /// (whole UTF-8 characters).
    public func respond(to prompt: String, maxNewTokens: Int, shouldStop: () -> Bool = { false }, onText: (String) -> Void = { _ in }) -> Turn {
        let text = template.turn(prompt, system: system, first: turns == 0)
        let promptIDs = pending + tokenizer.encode(text, parsingControlTokens: template != .none)
        pending = []
        turns += 1
        (cache as? StreamingCache)?.makeRoom(for: promptIDs.count + maxNewTokens)
        var started = DispatchTime.now().uptimeNanoseconds
        for start in stride(from: 0, to: promptIDs.count, by: state.capacity) {
            let chunk = Array(promptIDs[start ..< min(start + state.capacity, promptIDs.count)])
            let last = start + chunk.count == promptIDs.count
            chunk.withUnsafeBufferPointer { model.forward($0, cache: cache, state: state, logitRows: last ? chunk.count - 1 ..< chunk.count : 0 ..< 0) }
        }
        let prefillSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        started = DispatchTime.now().uptimeNanoseconds
        var generated: [Int32] = []
        var bytes = UTF8Buffer()
        var answer = ""
        var stop = Turn.Stop.maxNewTokens
        while generated.count < maxNewTokens {
            if shouldStop() { stop = .interrupted; break }
            let next = sampler.next(logits: state.logits.row(0), count: model.config.vocabularySize)
            if stopTokens.contains(next) { stop = .endOfTurn; break }
            generated.append(next)
            let piece = bytes.append(tokenizer.coveredBytes(of: next))
            answer += piece
            onText(piece)
            [next].withUnsafeBufferPointer { model.forward($0, cache: cache, state: state, logitRows: 0 ..< 1) }
        }
        let rest = bytes.flush()
        answer += rest
        onText(rest)
        return Turn(turn: turns, promptIDs: promptIDs, generatedIDs: generated, text: answer, cacheTokens: cache.heldTokens, stop: stop,
                    prefillSeconds: prefillSeconds, decodeSeconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
                    residentBytes: MachineInfo.residentBytes())
    }
}

/// Bytes of text arriving token by token, handed on as whole UTF-8 characters (a character may span tokens).
struct UTF8Buffer {
    private var bytes: [UInt8] = []

    /// The complete characters now available.
    mutating func append(_ more: [UInt8]) -> String {
        bytes += more
        var end = bytes.count
        // Hold back the start of a character whose remaining bytes have not arrived.
        for back in 1 ... min(3, bytes.count) {
            let byte = bytes[bytes.count - back]
            guard byte & 0xC0 == 0x80 else {
                let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                if length > back { end = bytes.count - back }
                break
            }
        }
        let text = String(decoding: bytes[..<end], as: UTF8.self)
        bytes.removeFirst(end)
        return text
    }

    /// Whatever is left, invalid bytes as U+FFFD.
    mutating func flush() -> String {
        defer { bytes = [] }
        return String(decoding: bytes, as: UTF8.self)
    }
}
