#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text that a config's predictions cover (METHOD.md §4), counted as the predictions come: each target's
/// `Tokenizer.coveredBytes`, in stream order, and the whitespace-separated words they spell, counted per
/// document. The denominators of the tokenizer-neutral scores: bits per byte, byte and word perplexity.
///
/// Whitespace is Unicode's White_Space property. A character may be split over several tokens (byte-level BPE,
/// byte fallback), so bytes of an unfinished UTF-8 sequence wait for the rest; one cut short by the end of a
/// document (or of the stream) counts as a word character, as does invalid UTF-8.
public struct CoveredText: Sendable {
    public private(set) var bytes = 0
    private var completedWords = 0
    private var document: Int?
    private var inWord = false
    /// The started UTF-8 sequence of a character not yet complete, and how long it will be.
    private var pending: [UInt8] = []
    private var pendingLength = 0

    public init() {}

    /// Words so far, a character still incomplete at the end counted as one.
    public var words: Int { completedWords + (!pending.isEmpty && !inWord ? 1 : 0) }

    /// Adds the bytes covered by a prediction in `document` (0-based index in the stream).
    public mutating func add(_ covered: [UInt8], document: Int) {
        if document != self.document {
            if !pending.isEmpty { endCharacter(isWhitespace: false) }
            self.document = document
            inWord = false
        }
        bytes += covered.count
        for byte in covered { add(byte) }
    }

    private mutating func add(_ byte: UInt8) {
        if !pending.isEmpty {
            guard byte & 0xC0 == 0x80 else {
                // Invalid UTF-8: the sequence so far is one word character, `byte` starts afresh.
                endCharacter(isWhitespace: false)
                return add(byte)
            }
            pending.append(byte)
            if pending.count == pendingLength {
                let scalar = String(decoding: pending, as: UTF8.self).unicodeScalars.first
                endCharacter(isWhitespace: scalar?.properties.isWhitespace ?? false)
            }
            return
        }
        switch byte {
        case 0x09 ... 0x0D, 0x20: endCharacter(isWhitespace: true)
        case 0xC0 ... 0xDF: start(byte, length: 2)
        case 0xE0 ... 0xEF: start(byte, length: 3)
        case 0xF0 ... 0xF7: start(byte, length: 4)
        default: endCharacter(isWhitespace: false)
        }
    }

    private mutating func start(_ lead: UInt8, length: Int) {
        pending = [lead]
        pendingLength = length
    }

    private mutating func endCharacter(isWhitespace: Bool) {
        pending.removeAll(keepingCapacity: true)
        if !isWhitespace, !inWord { completedWords += 1 }
        inWord = !isWhitespace
    }

    /// sum NLL / ln 2 / covered bytes.
    public func bitsPerByte(sumNLL: Double) -> Double { bytes > 0 ? sumNLL / log(2) / Double(bytes) : .nan }

    /// exp(sum NLL / covered bytes).
    public func bytePerplexity(sumNLL: Double) -> Double { bytes > 0 ? exp(sumNLL / Double(bytes)) : .nan }

    /// exp(sum NLL / words).
    public func wordPerplexity(sumNLL: Double) -> Double { words > 0 ? exp(sumNLL / Double(words)) : .nan }
}
