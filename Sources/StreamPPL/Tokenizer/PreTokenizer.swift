/// Splits text into the "words" that byte-level BPE encodes one at a time, reproducing the regular
/// expressions llama.cpp selects from `tokenizer.ggml.pre` (src/llama-vocab.cpp, `llm_tokenizer_bpe`)
/// and the way src/unicode.cpp (`unicode_regex_split`) evaluates them.
///
/// The regexes are implemented as hand-written scanners over Unicode scalars rather than with
/// NSRegularExpression: that is much faster, and it pins down the character classes. As in llama.cpp,
/// \p{L} is general category L*, \p{N} is N*, \s is the Unicode White_Space property, and everything
/// else (punctuation, symbols, marks, controls, unassigned code points) is "other".
struct PreTokenizer: Sendable {
    enum Kind: Sendable {
        /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)` (llama.cpp's custom
        /// gpt2 scanner, which also ends with `\s+`).
        case gpt2
        /// SmolLM (also StarCoder and others): first every \p{N} code point is cut out on its own
        /// (regex `\p{N}`), then the gpt2 expression runs inside each remaining piece.
        case smollm
        /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
        /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
        case llama3
        /// Qwen2: the Llama 3 expression with single digits (`\p{N}` instead of `\p{N}{1,3}`).
        /// llama.cpp runs this one through std::regex rather than a custom scanner; it has the same
        /// leftmost-first alternation semantics as the scanner here.
        case qwen2
        /// Falcon: runs of punctuation (`[\p{P}\$\+<=>\^~\|`]+`) cut out first, then the gpt2 expression
        /// inside each piece, then every `[0-9][0-9][0-9]` cut out of what that leaves.
        case falcon
        /// llama.cpp's "default", used when a BPE GGUF names no pre-tokenizer (e.g. GPT-NeoX): as Falcon
        /// without the backtick, with `\p{N}+` runs cut out before the three-digit groups.
        case standard
    }

    /// `tokenizer.ggml.pre` values accepted, with the scanner each one uses (aliases as in llama.cpp).
    static let kindsByName: [(name: String, kind: Kind)] = [
        ("smollm", .smollm),
        ("gpt2", .gpt2), ("gpt-2", .gpt2), ("mpt", .gpt2),
        ("falcon", .falcon), ("default", .standard),
        ("llama-bpe", .llama3), ("llama3", .llama3), ("llama-v3", .llama3),
        ("qwen2", .qwen2),
    ]
    static var supportedNames: [String] { kindsByName.map(\.name) }

    let kind: Kind

    init(kind: Kind) { self.kind = kind }

    init?(name: String) {
        guard let match = Self.kindsByName.first(where: { $0.name == name }) else { return nil }
        kind = match.kind
    }

    /// Character classes the expressions distinguish. `outside` is what the scanners see past the end
    /// of the piece being split: llama.cpp's scanners never look across the end of a piece.
    enum CharacterClass: UInt8 {
        case letter, number, whitespace, other, outside
    }

    /// The text decoded into scalars, their classes and where each one starts in the UTF-8.
    private struct Scalars {
        var values: [UInt32] = []
        var classes: [CharacterClass] = []
        var byteStarts: [Int] = []
    }

    /// Splits `bytes` (UTF-8) into words; returns the byte offset where each word ends, in order (the
    /// last one is `bytes.count`). Empty input gives no words.
    func wordEnds(_ bytes: UnsafeBufferPointer<UInt8>) -> [Int] {
        let scalars = Self.decode(bytes)
        let count = scalars.values.count
        var cuts: [Int] = []
        cuts.reserveCapacity(count / 3 + 1)
        switch kind {
        case .gpt2:
            splitGPT2(scalars, 0, count, &cuts)
        case .smollm:
            // Cut out each number code point, then split the stretches in between.
            var start = 0
            for index in 0 ..< count where scalars.classes[index] == .number {
                if index > start { splitGPT2(scalars, start, index, &cuts) }
                cuts.append(index + 1)
                start = index + 1
            }
            if count > start { splitGPT2(scalars, start, count, &cuts) }
        case .llama3:
            splitLlama3(scalars, 0, count, &cuts, digitsPerGroup: 3)
        case .qwen2:
            splitLlama3(scalars, 0, count, &cuts, digitsPerGroup: 1)
        case .falcon, .standard:
            let backtick = kind == .falcon
            // llama.cpp applies each expression inside every piece the previous ones left.
            var ends = Self.runs([count]) { Self.isPunctuation(scalars.values[$0], backtick: backtick) }
            ends = Self.refine(ends) { lower, upper, out in splitGPT2(scalars, lower, upper, &out) }
            if kind == .standard { ends = Self.runs(ends) { scalars.classes[$0] == .number } }
            ends = Self.refine(ends) { lower, upper, out in Self.splitDigitTriples(scalars, lower, upper, &out) }
            cuts = ends
        }
        return cuts.map { $0 < count ? scalars.byteStarts[$0] : bytes.count }
    }

    // MARK: Scanners (positions are scalar indices; each appends the end index of every word)

    /// Splits each piece ending at `ends` again with `split(lower, upper, &newEnds)`.
    private static func refine(_ ends: [Int], _ split: (Int, Int, inout [Int]) -> Void) -> [Int] {
        var result: [Int] = []
        result.reserveCapacity(ends.count)
        var start = 0
        for end in ends where end > start {
            split(start, end, &result)
            start = end
        }
        return result
    }

    /// Cuts every maximal run of scalars where `isMember` holds into its own piece (std::regex `X+` splitting).
    private static func runs(_ ends: [Int], _ isMember: (Int) -> Bool) -> [Int] {
        refine(ends) { lower, upper, out in
            var pos = lower
            while pos < upper {
                let member = isMember(pos)
                while pos < upper, isMember(pos) == member { pos += 1 }
                out.append(pos)
            }
        }
    }

    /// `[0-9][0-9][0-9]`: each group of three ASCII digits, from the left, is a piece; the rest stays whole.
    private static func splitDigitTriples(_ s: Scalars, _ lower: Int, _ upper: Int, _ cuts: inout [Int]) {
        func isDigit(_ index: Int) -> Bool { (0x30 ... 0x39).contains(s.values[index]) }
        var pos = lower
        var pieceStart = lower
        while pos + 3 <= upper {
            if isDigit(pos), isDigit(pos + 1), isDigit(pos + 2) {
                if pos > pieceStart { cuts.append(pos) }
                pos += 3
                cuts.append(pos)
                pieceStart = pos
            } else {
                pos += 1
            }
        }
        if upper > pieceStart { cuts.append(upper) }
    }

    /// `[\p{P}\$\+<=>\^~\|]` (plus the backtick for Falcon) as llama.cpp evaluates it: every ASCII
    /// punctuation or symbol character, and non-ASCII scalars of category P* that are not whitespace.
    private static func isPunctuation(_ value: UInt32, backtick: Bool) -> Bool {
        if value < 128 {
            if value == 0x60 { return backtick }
            return asciiClasses[Int(value)] == .other && value > 0x20 && value != 0x7F
        }
        guard let scalar = Unicode.Scalar(value), !scalar.properties.isWhitespace else { return false }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    private func splitGPT2(_ s: Scalars, _ lower: Int, _ upper: Int, _ cuts: inout [Int]) {
        func classAt(_ index: Int) -> CharacterClass { index < upper ? s.classes[index] : .outside }
        var pos = lower
        while pos < upper {
            let scalar = s.values[pos]
            if let end = contractionEnd(s, pos, upper, caseInsensitive: false) {
                cuts.append(end); pos = end; continue
            }
            let leadingSpace = scalar == 0x20
            // ` ?X+` for X in letters, numbers, other: the optional space goes with what follows it.
            let following = leadingSpace ? classAt(pos + 1) : s.classes[pos]
            if following == .letter || following == .number || following == .other {
                var end = pos + (leadingSpace ? 1 : 0)
                while classAt(end) == following { end += 1 }
                cuts.append(end); pos = end; continue
            }
            var spaces = 0
            while classAt(pos + spaces) == .whitespace { spaces += 1 }
            if spaces > 1, pos + spaces < upper {
                // `\s+(?!\S)`: leave the last whitespace to prefix the next word.
                pos += spaces - 1
            } else if spaces > 0 {
                pos += spaces // `\s+`
            } else {
                pos += 1 // unreachable for valid classes; mirrors llama.cpp's "no match" step
            }
            cuts.append(pos)
        }
    }

    private func splitLlama3(_ s: Scalars, _ lower: Int, _ upper: Int, _ cuts: inout [Int], digitsPerGroup: Int) {
        func classAt(_ index: Int) -> CharacterClass { index < upper ? s.classes[index] : .outside }
        func isLineBreak(_ index: Int) -> Bool { index < upper && (s.values[index] == 0x0D || s.values[index] == 0x0A) }
        var pos = lower
        while pos < upper {
            let scalar = s.values[pos]
            let cls = s.classes[pos]
            if let end = contractionEnd(s, pos, upper, caseInsensitive: true) {
                cuts.append(end); pos = end; continue
            }
            // `[^\r\n\p{L}\p{N}]?\p{L}+`
            if !isLineBreak(pos), cls != .number, cls == .letter || classAt(pos + 1) == .letter {
                var end = pos + 1
                while classAt(end) == .letter { end += 1 }
                cuts.append(end); pos = end; continue
            }
            // `\p{N}{1,3}` (Llama 3) or `\p{N}` (Qwen2): a run of digits in groups from the left.
            if cls == .number {
                var groupStart = pos
                while classAt(pos) == .number {
                    pos += 1
                    if pos - groupStart >= digitsPerGroup { cuts.append(pos); groupStart = pos }
                }
                if pos > groupStart { cuts.append(pos) }
                continue
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            let leadingSpace = scalar == 0x20
            let following = leadingSpace ? classAt(pos + 1) : cls
            if following == .other || following == .outside {
                var end = pos + (leadingSpace ? 1 : 0)
                while classAt(end) == .other { end += 1 }
                while isLineBreak(end) { end += 1 }
                cuts.append(end); pos = end; continue
            }
            var spaces = 0
            var endOfLastLineBreak = 0
            while classAt(pos + spaces) == .whitespace {
                if isLineBreak(pos + spaces) { endOfLastLineBreak = pos + spaces + 1 }
                spaces += 1
            }
            if endOfLastLineBreak > 0 {
                pos = endOfLastLineBreak // `\s*[\r\n]+`
            } else if spaces > 1, pos + spaces < upper {
                pos += spaces - 1 // `\s+(?!\S)`
            } else if spaces > 0 {
                pos += spaces // `\s+`
            } else {
                pos += 1
            }
            cuts.append(pos)
        }
    }

    /// End of `'s|'t|'re|'ve|'m|'ll|'d` starting at `pos`, if one does. llama.cpp's case-insensitive
    /// form lowercases the letters; only ASCII letters can lowercase to these.
    private func contractionEnd(_ s: Scalars, _ pos: Int, _ upper: Int, caseInsensitive: Bool) -> Int? {
        guard s.values[pos] == 0x27, pos + 1 < upper else { return nil }
        func letter(_ index: Int) -> UInt32 {
            let value = s.values[index]
            return caseInsensitive && (0x41 ... 0x5A).contains(value) ? value + 0x20 : value
        }
        let next = letter(pos + 1)
        if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 { return pos + 2 } // s t m d
        guard pos + 2 < upper else { return nil }
        let after = letter(pos + 2)
        if (next == 0x72 && after == 0x65) || (next == 0x76 && after == 0x65) || (next == 0x6C && after == 0x6C) {
            return pos + 3 // re ve ll
        }
        return nil
    }

    // MARK: Decoding and classes

    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> Scalars {
        var result = Scalars()
        result.values.reserveCapacity(bytes.count)
        result.classes.reserveCapacity(bytes.count)
        result.byteStarts.reserveCapacity(bytes.count)
        var offset = 0
        while offset < bytes.count {
            let (value, length) = decodeScalar(bytes, at: offset)
            result.values.append(value)
            result.classes.append(characterClass(of: value))
            result.byteStarts.append(offset)
            offset += length
        }
        return result
    }

    /// One scalar of UTF-8; an invalid sequence counts as U+FFFD of one byte, as llama.cpp does.
    private static func decodeScalar(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> (UInt32, Int) {
        let lead = bytes[offset]
        if lead < 0x80 { return (UInt32(lead), 1) }
        let length: Int
        var value: UInt32
        switch lead {
        case 0xC0 ... 0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0 ... 0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0 ... 0xF7: length = 4; value = UInt32(lead & 0x07)
        default: return (0xFFFD, 1)
        }
        guard offset + length <= bytes.count else { return (0xFFFD, 1) }
        for index in 1 ..< length {
            let continuation = bytes[offset + index]
            guard continuation & 0xC0 == 0x80 else { return (0xFFFD, 1) }
            value = value << 6 | UInt32(continuation & 0x3F)
        }
        return (value, length)
    }

    private static let asciiClasses: [CharacterClass] = (0 ..< 128).map { value in
        switch UInt8(value) {
        case UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "A") ... UInt8(ascii: "Z"): .letter
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): .number
        case 0x09 ... 0x0D, 0x20: .whitespace
        default: .other
        }
    }

    static func characterClass(of value: UInt32) -> CharacterClass {
        if value < 128 { return asciiClasses[Int(value)] }
        guard let scalar = Unicode.Scalar(value) else { return .other }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }
}
