/// Byte-level BPE: merges the bytes of one pre-tokenized word by the ranks of
/// `tokenizer.ggml.merges`, as llama.cpp's `llm_tokenizer_bpe_session` does.
///
/// Merging runs on symbol ids instead of strings. Every string that can occur as a symbol (the 256
/// byte characters, both sides of every merge and every merge result) gets an id: its token id when
/// the vocabulary has it, otherwise a "virtual" id past the end of the vocabulary. Because these ids
/// are unique per string, comparing ids is the same as llama.cpp's comparison of symbol texts.
struct BytePairEncoder: Sendable {
    struct Merge: Sendable {
        /// Position in `tokenizer.ggml.merges`: lower merges first.
        let rank: Int32
        /// Symbol id of the concatenation.
        let result: Int32
    }

    /// Symbol id of each single byte (the byte's GPT-2 character).
    private let symbolForByte: [Int32]
    /// (left symbol id, right symbol id) packed into 64 bits -> merge.
    private let merges: [UInt64: Merge]
    private let vocabularyCount: Int
    /// For each virtual symbol, what llama.cpp emits when a finished symbol is not a token: each byte
    /// of its encoded text looked up as a one-byte token, dropping bytes that are not tokens.
    private let fallbackForVirtualSymbol: [[Int32]]
    /// llama.cpp's `ignore_merges` (Llama 3): a word that is itself a token is taken whole.
    let ignoresMerges: Bool

    /// - Parameter mergeLines: `tokenizer.ggml.merges`, "left right" per line, highest priority first.
    init(tokens: TokenTextIndex, mergeLines: [String], ignoresMerges: Bool) {
        vocabularyCount = tokens.count
        self.ignoresMerges = ignoresMerges
        var virtualIDs: [[UInt8]: Int32] = [:]
        var virtualTexts: [[UInt8]] = []
        func symbolID(_ text: [UInt8]) -> Int32 {
            if let id = tokens.id(of: text) { return id }
            if let id = virtualIDs[text] { return id }
            let id = Int32(tokens.count + virtualTexts.count)
            virtualIDs[text] = id
            virtualTexts.append(text)
            return id
        }
        symbolForByte = (0 ..< 256).map { symbolID(ByteLevelEncoding.encodedUTF8ForByte[$0]) }

        var merges: [UInt64: Merge] = [:]
        merges.reserveCapacity(mergeLines.count)
        for (rank, line) in mergeLines.enumerated() {
            // llama.cpp splits at the first space after the first byte.
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, let space = bytes[1...].firstIndex(of: 0x20) else { continue }
            let left = Array(bytes[..<space]), right = Array(bytes[(space + 1)...])
            guard !right.isEmpty else { continue }
            let key = Self.pairKey(symbolID(left), symbolID(right))
            // A repeated pair keeps its first (best) rank, like llama.cpp's `emplace`.
            if merges[key] == nil {
                merges[key] = Merge(rank: Int32(rank), result: symbolID(left + right))
            }
        }
        self.merges = merges
        fallbackForVirtualSymbol = virtualTexts.map { text in
            text.compactMap { byte in tokens.id(of: [byte]) }
        }
    }

    private static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// A possible merge of the symbols at `left` and `right` (indices into the word's symbols).
    private struct Candidate: HeapOrdered {
        let rank: Int32
        let left: Int32
        let right: Int32
        let leftSymbol: Int32
        let rightSymbol: Int32
        let result: Int32

        /// llama.cpp's `llm_bigram_bpe::comparator`: the lowest rank first and, among equal ranks, the
        /// leftmost pair first.
        static func precedes(_ lhs: Candidate, _ rhs: Candidate) -> Bool {
            lhs.rank < rhs.rank || (lhs.rank == rhs.rank && lhs.left < rhs.left)
        }
    }

    /// Appends the tokens of one word (raw UTF-8 bytes, not yet byte-level encoded).
    func encode(word: UnsafeBufferPointer<UInt8>, tokens: TokenTextIndex, into output: inout [Int32]) {
        guard !word.isEmpty else { return }
        if ignoresMerges {
            var encoded: [UInt8] = []
            ByteLevelEncoding.encode(word, into: &encoded)
            if let id = tokens.id(of: encoded) {
                output.append(id)
                return
            }
        }
        let count = word.count
        // A symbol per byte; merged-away symbols get id -1. `next`/`previous` link the live ones.
        var symbols = word.map { symbolForByte[Int($0)] }
        var next = (0 ..< count).map { Int32($0 + 1) }
        next[count - 1] = -1
        var previous = (0 ..< count).map { Int32($0 - 1) }

        var queue = BinaryHeap<Candidate>()
        func consider(_ left: Int32, _ right: Int32) {
            guard left >= 0, right >= 0 else { return }
            let leftSymbol = symbols[Int(left)], rightSymbol = symbols[Int(right)]
            guard let merge = merges[Self.pairKey(leftSymbol, rightSymbol)] else { return }
            queue.push(Candidate(rank: merge.rank, left: left, right: right,
                                 leftSymbol: leftSymbol, rightSymbol: rightSymbol, result: merge.result))
        }
        for index in 0 ..< count - 1 { consider(Int32(index), Int32(index + 1)) }

        while let candidate = queue.pop() {
            let left = Int(candidate.left), right = Int(candidate.right)
            // Skip candidates made stale by an earlier merge of either side.
            guard symbols[left] == candidate.leftSymbol, symbols[right] == candidate.rightSymbol,
                  next[left] == candidate.right else { continue }
            symbols[left] = candidate.result
            symbols[right] = -1
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = candidate.left }
            consider(previous[left], candidate.left)
            consider(candidate.left, next[left])
        }

        var index: Int32 = 0
        while index >= 0 {
            let symbol = symbols[Int(index)]
            if Int(symbol) < vocabularyCount {
                output.append(symbol)
            } else {
                output.append(contentsOf: fallbackForVirtualSymbol[Int(symbol) - vocabularyCount])
            }
            index = next[Int(index)]
        }
    }
}
