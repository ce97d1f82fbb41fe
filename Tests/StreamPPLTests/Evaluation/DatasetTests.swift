import CZlib
import Foundation
import XCTest
@testable import StreamPPL

/// METHOD.md §1: what a dataset is and how its documents are read.
final class DatasetTests: XCTestCase {
    func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func testFolderIsReadInByteOrderWithGzipAndExactBytes() throws {
        let folder = try TemporaryFiles.directory()
        try write("second\r\n  kept as is \n", to: folder + "/b.txt")
        try write("ignored", to: folder + "/notes.md")
        try write("upper case sorts first", to: folder + "/Z.txt")
        let gzipped = folder + "/a.txt.gz"
        let file = try XCTUnwrap(gzopen(gzipped, "wb"))
        _ = "first, compressed".withCString { gzwrite(file, $0, UInt32(strlen($0))) }
        gzclose(file)
        let dataset = try Dataset(path: folder)
        XCTAssertEqual(dataset.files.map { ($0 as NSString).lastPathComponent }, ["Z.txt", "a.txt.gz", "b.txt"])
        XCTAssertEqual(try (0 ..< 3).map { try dataset.text(ofDocument: $0) },
                       ["upper case sorts first", "first, compressed", "second\r\n  kept as is \n"])
    }

    func testJSONLinesAreDocumentsReadLineByLine() throws {
        let path = try TemporaryFiles.directory() + "/books.jsonl"
        try write("{\"text\": \"one\\nline\", \"id\": 1}\n\n{\"text\": \"two\"}\n", to: path)
        let dataset = try Dataset(path: path)
        XCTAssertEqual(dataset.documentCount, 2)
        XCTAssertEqual(try dataset.text(ofDocument: 0), "one\nline")
        XCTAssertEqual(try dataset.text(ofDocument: 1), "two")
    }

    func testRepeatedDatasetNumbersTheDocumentsOn() throws {
        let path = try TemporaryFiles.directory() + "/books.jsonl"
        try write("{\"text\": \"one\"}\n{\"text\": \"two\"}\n", to: path)
        let dataset = try Dataset(path: path, repeats: 3)
        XCTAssertEqual(dataset.documentCount, 6)
        XCTAssertEqual(try (0 ..< 6).map { try dataset.text(ofDocument: $0) }, ["one", "two", "one", "two", "one", "two"])
        XCTAssertEqual(dataset.files, [path], "each file is hashed once")
    }

    func testBadInputNamesTheFileAndTheProblem() throws {
        let folder = try TemporaryFiles.directory()
        try write("{\"text\": \"fine\"}\n{\"title\": \"no text\"}\n", to: folder + "/bad.jsonl")
        XCTAssertThrowsError(try Dataset(path: folder + "/bad.jsonl")) {
            XCTAssertEqual($0 as? DatasetError, .badJSONL(path: folder + "/bad.jsonl", line: 2, reason: "no string field \"text\""))
        }
        try Data([0x61, 0x62, 0xFF, 0x63]).write(to: URL(fileURLWithPath: folder + "/latin.txt"))
        XCTAssertThrowsError(try Dataset(path: folder + "/latin.txt").text(ofDocument: 0)) {
            XCTAssertEqual($0 as? DatasetError, .invalidUTF8(path: folder + "/latin.txt", byteOffset: 2))
        }
        XCTAssertThrowsError(try Dataset(path: folder + "/missing")) {
            XCTAssertEqual($0 as? DatasetError, .notFound(path: folder + "/missing"))
        }
        let empty = try TemporaryFiles.directory()
        XCTAssertThrowsError(try Dataset(path: empty)) { XCTAssertEqual($0 as? DatasetError, .empty(path: empty)) }
    }

    /// METHOD.md §1: token 0 of a document is never a target, its last token is never fed, and a sink prefix is unscored.
    func testTokenStreamFeedsAllButTheLastTokenOfEachDocument() throws {
        let folder = try TemporaryFiles.directory()
        try write("abc", to: folder + "/1.txt")
        try write("x", to: folder + "/2.txt")
        try write("de", to: folder + "/3.txt")
        var stream = TokenStream(dataset: try Dataset(path: folder), prefix: [9, 9]) { text in text.unicodeScalars.map { Int32($0.value) } }
        var fed: [FedToken] = []
        while let next = stream.next() { fed.append(next) }
        XCTAssertEqual(fed.map(\.token), [9, 9, 97, 98, 100])
        XCTAssertEqual(fed.map { $0.target.map { [$0.document, $0.position, Int($0.token)] } },
                       [nil, nil, [0, 1, 98], [0, 2, 99], [2, 1, 101]])
    }
}
