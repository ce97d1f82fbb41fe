/// Cuts user-defined tokens out of the text before the tokenizer proper sees it, as llama.cpp's
/// `tokenizer_st_partition` does with `parse_special = false`.
///
/// With `parse_special = false` llama.cpp ignores control and unknown tokens in the text (so
/// "<|im_end|>" written in a document is tokenized as ordinary characters), but user-defined tokens
/// are still matched first, wherever they occur. Gemma 3 declares its runs of newlines, spaces and
/// tabs, and some HTML tags, as user-defined; so every "\n" in a Gemma document becomes token 107 and
/// the text between newlines is tokenized as separate fragments.
///
/// Order matters when matches overlap: llama.cpp takes the tokens longest first and, for each one,
/// splits every remaining text fragment at all its non-overlapping occurrences, left to right.
/// (llama.cpp's sort by length is not stable; ties are taken here in id order, which only matters for
/// two equally long tokens that overlap in the text.)
struct SpecialTokenSplitter: Sendable {
    enum Piece: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    private struct SpecialToken: Sendable {
        let id: Int32
        let text: [UInt8]
    }

    private let specialTokens: [SpecialToken]

    init(tokens: [(id: Int32, text: [UInt8])]) {
        specialTokens = tokens
            .filter { !$0.text.isEmpty }
            .sorted { $0.text.count != $1.text.count ? $0.text.count > $1.text.count : $0.id < $1.id }
            .map { SpecialToken(id: $0.id, text: $0.text) }
    }

    var isEmpty: Bool { specialTokens.isEmpty }

    func split(_ bytes: UnsafeBufferPointer<UInt8>) -> [Piece] {
        guard !bytes.isEmpty else { return [] }
        var pieces: [Piece] = [.text(0 ..< bytes.count)]
        for special in specialTokens {
            var result: [Piece] = []
            result.reserveCapacity(pieces.count)
            var changed = false
            for piece in pieces {
                guard case let .text(range) = piece else { result.append(piece); continue }
                var rest = range
                while let match = Self.firstOccurrence(of: special.text, in: bytes, within: rest) {
                    changed = true
                    if match > rest.lowerBound { result.append(.text(rest.lowerBound ..< match)) }
                    result.append(.token(special.id))
                    rest = match + special.text.count ..< rest.upperBound
                }
                if !rest.isEmpty { result.append(.text(rest)) }
            }
            if changed { pieces = result }
        }
        return pieces
    }

    private static func firstOccurrence(of needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, within range: Range<Int>) -> Int? {
        let length = needle.count
        guard range.count >= length else { return nil }
        let first = needle[0]
        var position = range.lowerBound
        let last = range.upperBound - length
        while position <= last {
            if bytes[position] == first {
                var index = 1
                while index < length, bytes[position + index] == needle[index] { index += 1 }
                if index == length { return position }
            }
            position += 1
        }
        return nil
    }
}
