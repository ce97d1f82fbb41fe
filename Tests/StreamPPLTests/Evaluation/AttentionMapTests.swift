import Foundation
import XCTest
@testable import StreamPPL
@testable import StreamPPLKernels

/// The sequences of Figure 2 and the averaging of their attention.
final class AttentionMapTests: XCTestCase {
    /// Two books whose fed tokens (METHOD.md §1: each without its last token) are "abcdefghi" and "012345678"
    /// in the byte-level tiny vocabulary.
    func twoBooks() throws -> (Dataset, Tokenizer) {
        let folder = try TemporaryFiles.directory()
        try Data("abcdefghij".utf8).write(to: URL(fileURLWithPath: folder + "/a.txt"))
        try Data("0123456789".utf8).write(to: URL(fileURLWithPath: folder + "/b.txt"))
        let (gguf, _) = try TinyLlama.model()
        return (try Dataset(path: folder), try Tokenizer(gguf: gguf))
    }

    func text(_ sample: AttentionSequences) -> [String] {
        sample.tokens.map { String(decoding: $0.map { UInt8($0) }, as: UTF8.self) }
    }

    func testWindowsAreEvenlySpacedOverTheStream() throws {
        let (dataset, tokenizer) = try twoBooks()
        let whole = try AttentionSequences(dataset: dataset, tokenize: tokenizer.encodeDocument, count: 3, length: 4)
        XCTAssertEqual(whole.spannedTokens, 18)
        XCTAssertEqual(text(whole), ["abcd", "ghi0", "3456"])
        let bounded = try AttentionSequences(dataset: dataset, tokenize: tokenizer.encodeDocument, count: 3, length: 4, span: 12)
        XCTAssertEqual(bounded.spannedTokens, 12)
        XCTAssertEqual(text(bounded), ["abcd", "efgh", "i012"])
        XCTAssertEqual(bounded.summary, "3 sequences of 4 tokens, evenly spaced over the first 12 tokens of the stream")
    }

    func testTooShortAStreamNamesTheDatasetAndTheCounts() throws {
        let (dataset, tokenizer) = try twoBooks()
        XCTAssertThrowsError(try AttentionSequences(dataset: dataset, tokenize: tokenizer.encodeDocument, count: 5, length: 4)) {
            XCTAssertEqual($0 as? AttentionMapError, .tooFewTokens(path: dataset.path, found: 18, sequences: 5, length: 4))
            XCTAssertTrue("\($0)".contains("18 tokens, fewer than the 5 x 4 = 20"))
        }
    }

    func testTheMapIsTheMeanOverHeadsAndSequences() throws {
        let (_, model) = try TinyLlama.model()
        let shape = AttentionShape(config: model.config)
        let sequences: [[Int32]] = [Array(0 ..< 8), [200, 3, 3, 3, 9, 40, 7, 1]]
        var done: [Int] = []
        let map = AttentionMap(model: model, sequences: sequences) { done.append($0) }
        XCTAssertEqual(done, [1, 2])
        XCTAssertEqual(map.layerCount, TinyLlama.layers)
        XCTAssertEqual(map.sequenceCount, 2)

        var expected = Array(repeating: [Double](repeating: 0, count: 64), count: shape.layers)
        for sequence in sequences {
            let cache = AttentionRecordingCache(shape: shape, rotary: RotaryEmbedding(config: model.config))
            let state = ForwardState(config: model.config, capacity: 8)
            sequence.withUnsafeBufferPointer { model.forward($0, cache: cache, state: state, logitRows: 0 ..< 0) }
            for layer in 0 ..< shape.layers {
                for head in 0 ..< shape.heads {
                    for query in 0 ..< 8 {
                        for key in 0 ..< 8 {
                            expected[layer][query * 8 + key] += Double(cache.probability(layer: layer, head: head, query: query, key: key))
                                / Double(2 * shape.heads)
                        }
                    }
                }
            }
        }
        for layer in 0 ..< shape.layers {
            print("map vs recorded mean, layer \(layer): max |d| \((0 ..< 64).map { abs(map.weights[layer][$0] - expected[layer][$0]) }.max() ?? 0), "
                  + "|w(0,0) - 1| \(abs(map.weight(layer: layer, query: 0, key: 0) - 1))")
            // Measured 0.0 for both (2026-12-02, `swift test -c release -Xswiftc -enable-testing --filter AttentionMapTests`): the same sums in the same order. The
            // bounds allow another summation order in Float64 (1e-9) and a rounding of the one-key softmax (1e-6).
            for cell in 0 ..< 64 { XCTAssertEqual(map.weights[layer][cell], expected[layer][cell], accuracy: 1e-9) }
            XCTAssertEqual(map.weight(layer: layer, query: 0, key: 0), 1, accuracy: 1e-6)
            let onFirst = (1 ..< 8).map { expected[layer][$0 * 8] }.reduce(0, +) / 7
            XCTAssertEqual(map.meanWeightOnFirstToken(layer: layer, fromQuery: 1), onFirst, accuracy: 1e-9)
            XCTAssertEqual(map.meanWeightOnFirstToken(layer: layer, fromQuery: 0), (onFirst * 7 + 1) / 8, accuracy: 1e-6)
        }
    }

    func testUniformAttentionBaseline() {
        let map = AttentionMap(length: 4, sequenceCount: 1, weights: [])
        XCTAssertEqual(map.uniformWeightOnFirstToken, (1.0 / 2 + 1.0 / 3 + 1.0 / 4) / 3, accuracy: 1e-12)
    }
}
