/// SentencePiece-style tokenization of one text fragment, as llama.cpp's `llm_tokenizer_spm_session`
/// does it for `tokenizer.ggml.model = llama` (used by Gemma 3 too).
///
/// Spaces become U+2581 ("▁"), the text is cut into UTF-8 characters, and adjacent symbols are merged
/// greedily: always the pair whose concatenation is a vocabulary token with the highest score
/// (`tokenizer.ggml.scores`), the leftmost one on ties. A final symbol that is not a token is emitted
/// byte by byte as `<0xXX>` tokens (byte fallback).
struct SentencePieceEncoder: Sendable {
    private let scores: [Float]
    /// Token for each byte: `<0xXX>`, else the byte itself as a one-byte token, else nil.
    private let byteTokens: [Int32?]
    /// Emitted for a byte without any token (llama.cpp would stop with an error there).
    private let unknownID: Int32?

    init(tokens: TokenTextIndex, scores: [Float], unknownID: Int32?) {
        self.scores = scores
        self.unknownID = unknownID
        byteTokens = (0 ..< 256).map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            let name = "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
            return tokens.id(of: Array(name.utf8)) ?? tokens.id(of: [UInt8(byte)])
        }
    }

    private struct Candidate: HeapOrdered {
        let score: Float
        let left: Int32
        let right: Int32
        /// Byte length of the merged text; a mismatch later means a side has changed.
        let size: Int32

        /// llama.cpp's `llm_bigram_spm::comparator`: the highest score first and, among equal
        /// scores, the leftmost pair first.
        static func precedes(_ lhs: Candidate, _ rhs: Candidate) -> Bool {
            lhs.score > rhs.score || (lhs.score == rhs.score && lhs.left < rhs.left)
        }
    }

    /// Appends the tokens of `fragment` (raw UTF-8); `prefixSpace` puts a space in front first.
    func encode(fragment: UnsafeBufferPointer<UInt8>, prefixSpace: Bool, tokens: TokenTextIndex, into output: inout [Int32]) {
        var text: [UInt8] = []
        text.reserveCapacity(fragment.count + 8)
        if prefixSpace { text.append(contentsOf: [0xE2, 0x96, 0x81]) }
        for byte in fragment {
            if byte == 0x20 { text.append(contentsOf: [0xE2, 0x96, 0x81]) } else { text.append(byte) }
        }
        guard !text.isEmpty else { return }
        text.withUnsafeBufferPointer { encodeEscaped($0, tokens: tokens, into: &output) }
    }

    private func encodeEscaped(_ text: UnsafeBufferPointer<UInt8>, tokens: TokenTextIndex, into output: inout [Int32]) {
        // One symbol per UTF-8 character (length from the lead byte, as llama.cpp's
        // `unicode_len_utf8`, clipped at the end of the text).
        var starts: [Int] = [], lengths: [Int] = []
        var offset = 0
        while offset < text.count {
            let lead = text[offset]
            let length = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
            let clipped = min(length, text.count - offset)
            starts.append(offset)
            lengths.append(clipped)
            offset += clipped
        }
        let count = starts.count
        var next = (0 ..< count).map { $0 + 1 }
        next[count - 1] = -1
        var previous = (0 ..< count).map { $0 - 1 }

        var queue = BinaryHeap<Candidate>()
        func consider(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let size = lengths[left] + lengths[right]
            let merged = UnsafeBufferPointer(rebasing: text[starts[left] ..< starts[left] + size])
            guard let id = tokens.id(of: merged), Int(id) < scores.count else { return }
            queue.push(Candidate(score: scores[Int(id)], left: Int32(left), right: Int32(right), size: Int32(size)))
        }
        for index in 1 ..< max(count, 1) { consider(index - 1, index) }

        while let candidate = queue.pop() {
            let left = Int(candidate.left), right = Int(candidate.right)
            guard lengths[left] > 0, lengths[right] > 0, lengths[left] + lengths[right] == Int(candidate.size) else { continue }
            lengths[left] += lengths[right]
            lengths[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { previous[next[right]] = left }
            consider(previous[left], left)
            consider(left, next[left])
        }

        var index = 0
        while index >= 0 {
            let symbol = UnsafeBufferPointer(rebasing: text[starts[index] ..< starts[index] + lengths[index]])
            if let id = tokens.id(of: symbol) {
                output.append(id)
            } else {
                // Merges only ever form tokens, so this is a single character missing from the
                // vocabulary: spell it in bytes.
                for byte in symbol {
                    if let id = byteTokens[Int(byte)] ?? unknownID { output.append(id) }
                }
            }
            index = next[index]
        }
    }
}
