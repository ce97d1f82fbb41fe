import Foundation
import XCTest
@testable import StreamPPL

/// The RFC 4180 reader: quoting, line ends, chunked input, and one-line errors naming the file and line.
final class CSVTableTests: TemporaryFilesTestCase {
    func testHeaderColumnsAndRows() throws {
        let table = try CSVTable(text: "config,tokens,ppl\n0+1024,500,12.5\ndense,500,11.25\n", path: "s.csv")
        XCTAssertEqual(table.header, ["config", "tokens", "ppl"])
        XCTAssertEqual(table.rows, [["0+1024", "500", "12.5"], ["dense", "500", "11.25"]])
        XCTAssertEqual(table.rowLines, [2, 3])
        XCTAssertEqual(table.column("ppl"), 2)
        XCTAssertNil(table.column("data"))
        XCTAssertEqual(try table.requiredColumns(["ppl", "config"]), [2, 0])
        XCTAssertThrowsError(try table.requiredColumns(["config", "mean_nll", "data"])) { error in
            XCTAssertEqual(error as? ReportError, ReportError(path: "s.csv", reason: "no column mean_nll, data in the header config,tokens,ppl"))
        }
    }

    func testQuotedFieldsWithEscapedQuotesCommasAndLineBreaks() throws {
        let text = "config,note\n\"4\"\"\\n\"\"+1020\",\"a, b\"\n\"two\nlines\",\"\"\nx,\"crlf\r\ninside\"\n"
        let table = try CSVTable(text: text, path: "q.csv")
        XCTAssertEqual(table.rows, [["4\"\\n\"+1020", "a, b"], ["two\nlines", ""], ["x", "crlf\r\ninside"]])
        XCTAssertEqual(table.rowLines, [2, 3, 5], "a quoted line break moves the next row's line")
    }

    func testLineEndsBlankLinesTrailingEmptyFieldsAndByteOrderMark() throws {
        let expected = [["a", ""], ["", "b"]]
        for text in ["h1,h2\na,\n,b\n", "h1,h2\r\na,\r\n,b\r\n", "h1,h2\ra,\r,b", "\u{FEFF}h1,h2\n\na,\n\n,b", "h1,h2\r\n\r\na,\r\n,b\r\n\r\n"] {
            let table = try CSVTable(text: text, path: "e.csv")
            XCTAssertEqual(table.header, ["h1", "h2"], text.debugDescription)
            XCTAssertEqual(table.rows, expected, text.debugDescription)
        }
    }

    /// Every string `NLLLog.csvField` writes reads back unchanged, including quotes, commas, line breaks and non-ASCII.
    func testFieldsWrittenByNLLLogRoundTrip() throws {
        let configs = ["4\"\\n\"+1020", "4\"a,b\"+8", "\"", "\"\"", ",", "line\nbreak", "cr\rlf\r\n", " spaced ", "é—€🙂", ""]
        let text = "config,n\n" + configs.enumerated().map { NLLLog.csvField($1) + ",\($0)" }.joined(separator: "\n")
        let table = try CSVTable(text: text, path: "r.csv")
        XCTAssertEqual(table.rows.map { $0[0] }, configs)
        XCTAssertEqual(table.rows.map { $0[1] }, configs.indices.map(String.init))
    }

    /// Split anywhere, even inside a CRLF or a doubled quote, the chunks give the same records as the whole.
    func testChunkedInputGivesTheSameRecords() throws {
        let text = "config,ppl\r\n\"4\"\"\\n\"\"+1020\",1.5\r\n\"multi\r\nline, with comma\",2\r\nlast,3"
        let bytes = Array(text.utf8)
        func records(chunkSize: Int) throws -> [CSVRecord] {
            var reader = CSVRecordReader(path: "c.csv")
            var records: [CSVRecord] = []
            for start in stride(from: 0, to: bytes.count, by: chunkSize) {
                records += try reader.read(bytes[start ..< min(start + chunkSize, bytes.count)])
            }
            if let last = try reader.finish() { records.append(last) }
            return records
        }
        let whole = try records(chunkSize: bytes.count)
        XCTAssertEqual(whole.map(\.fields), [["config", "ppl"], ["4\"\\n\"+1020", "1.5"], ["multi\r\nline, with comma", "2"], ["last", "3"]])
        XCTAssertEqual(whole.map(\.line), [1, 2, 3, 5])
        for size in [1, 2, 3, 7] {
            XCTAssertEqual(try records(chunkSize: size), whole, "chunks of \(size)")
        }
    }

    func testMalformedInputNamesTheFileAndLine() {
        let cases: [(String, String)] = [
            ("a,b\n1,\"open\n", "line 2: a quoted field is not closed"),
            ("a,b\n1,x\"y\n", "line 2: a quote inside an unquoted field"),
            ("a,b\n1,2\n\"q\"x,2\n", "line 3: 'x' after a closing quote"),
            ("a,b\n1,2\n3\n", "line 3: 1 fields, the header has 2"),
            ("a,b\n1,2,3\n", "line 2: 3 fields, the header has 2"),
            ("", "empty file"),
            ("\n\n", "empty file"),
        ]
        for (text, reason) in cases {
            XCTAssertThrowsError(try CSVTable(text: text, path: "bad.csv"), text.debugDescription) { error in
                guard let error = error as? ReportError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.path, "bad.csv")
                XCTAssertTrue(error.reason.hasPrefix(reason), "\(text.debugDescription): \(error.reason)")
                XCTAssertFalse(error.description.contains("\n"))
            }
        }
    }

    func testReadsAFileAndNamesAMissingOne() throws {
        let folder = try keep(TemporaryFiles.directory())
        let path = folder + "/summary.csv"
        try Data("config,ppl\n\"a,b\",1\n".utf8).write(to: URL(fileURLWithPath: path))
        let table = try CSVTable(contentsOfFile: path)
        XCTAssertEqual(table.path, path)
        XCTAssertEqual(table.rows, [["a,b", "1"]])
        for unreadable in [folder + "/missing.csv", folder] {
            XCTAssertThrowsError(try CSVTable(contentsOfFile: unreadable)) { error in
                XCTAssertEqual((error as? ReportError)?.path, unreadable)
                XCTAssertTrue((error as? ReportError)?.reason.hasPrefix("cannot read: ") == true, "\(error)")
            }
        }
    }
}
