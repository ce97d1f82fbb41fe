import Foundation
import XCTest
@testable import StreamPPL

/// `streamppl run` on SmolLM2 over two documents: summary.csv's bytes, words, bits per byte, byte and word perplexity
/// (METHOD.md §4) recomputed here from nll.csv.gz and the documents' text, with a byte-level decoder of this test's
/// own rather than `Tokenizer.coveredBytes`.
final class TokenizerNeutralScoresTests: CLITestCase {
    /// GPT-2's byte-level encoding undone: each vocabulary character stands for one byte (`bytes_to_unicode`).
    private static let byteOfCharacter: [Unicode.Scalar: UInt8] = {
        let printable = Array(0x21 ... 0x7E) + Array(0xA1 ... 0xAC) + Array(0xAE ... 0xFF)
        var table: [Unicode.Scalar: UInt8] = [:]
        for byte in printable { table[Unicode.Scalar(UInt32(byte))!] = UInt8(byte) }
        var next: UInt32 = 256
        for byte in 0 ... 255 where !printable.contains(byte) {
            table[Unicode.Scalar(next)!] = UInt8(byte)
            next += 1
        }
        return table
    }()

    func testScoresEqualTheLogOverTheDocumentsText() throws {
        let model = try TestPaths.requireModel(TestPaths.smolLM2, fetch: "smollm2")
        let data = try TestPaths.fixture("multidoc")
        let out = try outFolder()
        let outcome = try run(["run", "--model", model, "--data", data, "--cache", "4+252", "--max-tokens", "2000", "--out", out])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)

        let vocabulary = try XCTUnwrap(GGUFFile(path: model).stringArray("tokenizer.ggml.tokens"))
        let documents = try ["00_macbeth.txt", "01_othello.txt"].map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: data + "/" + $0))) }
        var covered = [[UInt8]](repeating: [], count: documents.count)
        var sum = 0.0
        var previous = (document: -1, position: 0)
        let rows = String(decoding: try Dataset.readBytes(out + "/nll.csv.gz"), as: UTF8.self).split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.count, 2000)
        for row in rows {
            let fields = row.split(separator: ",")
            let document = try XCTUnwrap(Int(fields[1])), position = try XCTUnwrap(Int(fields[2]))
            let token = try XCTUnwrap(Int(fields[3])), nll = try XCTUnwrap(Double(fields[4]))
            XCTAssertEqual(position, document == previous.document ? previous.position + 1 : 1, "targets in order, from token 1")
            previous = (document, position)
            for character in vocabulary[token].unicodeScalars { covered[document].append(try XCTUnwrap(Self.byteOfCharacter[character])) }
            sum += nll
        }
        XCTAssertEqual(previous.document, 1, "the run reaches the second document")
        for (index, (text, targets)) in zip(documents, covered).enumerated() {
            // The targets' bytes follow the document's first token (a few bytes) and, for the finished first
            // document, run to its end.
            let start = try XCTUnwrap((1 ... 16).first { text.dropFirst($0).starts(with: targets) }, "document \(index)")
            if index == 0 { XCTAssertEqual(start + targets.count, text.count) }
        }
        let bytes = covered.map(\.count).reduce(0, +)
        let words = covered.map { String(decoding: $0, as: UTF8.self).split(whereSeparator: \.isWhitespace).count }.reduce(0, +)

        let table = try CSVTable(contentsOfFile: out + "/summary.csv")
        let row = try XCTUnwrap(table.rows.first)
        let value = { (name: String) in try XCTUnwrap(Double(row[try XCTUnwrap(table.column(name), name)]), name) }
        XCTAssertEqual(try value("bytes"), Double(bytes))
        XCTAssertEqual(try value("words"), Double(words))
        XCTAssertEqual(try value("bits_per_byte"), sum / log(2) / Double(bytes), accuracy: 1e-12)
        XCTAssertEqual(try value("byte_ppl"), exp(sum / Double(bytes)), accuracy: 1e-12)
        XCTAssertEqual(try value("word_ppl"), exp(sum / Double(words)), accuracy: 1e-9 * exp(sum / Double(words)))
        XCTAssertEqual(try value("mean_nll"), sum / 2000, accuracy: 1e-12, "the same rows")
    }
}
