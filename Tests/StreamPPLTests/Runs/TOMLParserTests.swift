import XCTest
@testable import StreamPPL

/// The flat TOML subset for run files: what reads to what, and the line and reason of every rejection.
final class TOMLParserTests: XCTestCase {
    func testFlatDocumentReadsEveryKindOfValue() throws {
        let document = #"""
        # a run file

        model = "models/x.gguf"   # trailing comment
        "quoted key" = 'C:\dir\file'
        cache = '4"\n"+1020'
        escapes = "tab\t newline\n quote\" backslash\\ e\u00E9 smile\U0001F600 \b\f\r"
        max_tokens = 1_000
        signed = [+5, -3, 0]
        floats = [0.5, -1e3, 6.02E+23, 1_0.2_5, 3e-2]
        flags=[true,false]
        caches = [
            "dense",   # the baseline
            '4+1020',
            # a comment line inside the array
            [1, []],
        ]
        empty = []
        with-dash = ""
        """#
        let entries = try TOMLParser.parse(document)
        XCTAssertEqual(entries, [
            TOMLEntry(key: "model", value: .string("models/x.gguf"), line: 3),
            TOMLEntry(key: "quoted key", value: .string(#"C:\dir\file"#), line: 4),
            TOMLEntry(key: "cache", value: .string(#"4"\n"+1020"#), line: 5),
            TOMLEntry(key: "escapes", value: .string("tab\t newline\n quote\" backslash\\ e\u{E9} smile\u{1F600} \u{8}\u{C}\r"), line: 6),
            TOMLEntry(key: "max_tokens", value: .integer(1000), line: 7),
            TOMLEntry(key: "signed", value: .array([.integer(5), .integer(-3), .integer(0)]), line: 8),
            TOMLEntry(key: "floats", value: .array([.double(0.5), .double(-1000), .double(6.02e23), .double(10.25), .double(0.03)]), line: 9),
            TOMLEntry(key: "flags", value: .array([.bool(true), .bool(false)]), line: 10),
            TOMLEntry(key: "caches", value: .array([.string("dense"), .string("4+1020"), .array([.integer(1), .array([])])]), line: 11),
            TOMLEntry(key: "empty", value: .array([]), line: 17),
            TOMLEntry(key: "with-dash", value: .string(""), line: 18),
        ])
    }

    func testWindowsLineEndingsCountLines() throws {
        let entries = try TOMLParser.parse("a = 1\r\n\r\nb = [\r\n 2,\r\n]\r\nc = 'x'\r\n")
        XCTAssertEqual(entries.map(\.line), [1, 3, 6])
        XCTAssertEqual(entries.map(\.value), [.integer(1), .array([.integer(2)]), .string("x")])
    }

    func testEmptyDocumentAndTabsInStrings() throws {
        XCTAssertEqual(try TOMLParser.parse(""), [])
        XCTAssertEqual(try TOMLParser.parse("# only a comment\n\n"), [])
        XCTAssertEqual(try TOMLParser.parse("a = \"x\ty\"\t# tab\n"), [TOMLEntry(key: "a", value: .string("x\ty"), line: 1)])
        XCTAssertEqual(try TOMLParser.parse("a = -0.0").first?.value, .double(-0.0))
        XCTAssertEqual(try TOMLParser.parse("a = 9223372036854775807").first?.value, .integer(.max))
    }

    func testRejectionsNameTheLine() {
        let cases: [(document: String, line: Int, reason: String)] = [
            ("a = 1\n[run]\nb = 2", 2, "tables are not supported"),
            ("[[runs]]", 1, "tables are not supported"),
            ("a = 1\n\n  [ run ]", 3, "tables are not supported"),
            ("a = 1\n# note\na = 2", 3, "key 'a' is already set on line 1"),
            ("\"a\" = 1\na = 2", 2, "key 'a' is already set on line 1"),
            ("run.model = 'x'", 1, "dotted keys are not supported"),
            ("a = ", 1, "expected a value, found the end of the file"),
            ("a =\nb = 1", 1, "expected a value, found the end of the line"),
            ("a 1", 1, "expected '=' after the key 'a', found '1'"),
            ("= 1", 1, "expected a key, found '='"),
            ("a = 1 2", 1, "expected the end of the line, found '2'"),
            ("a = 'x' 'y'", 1, "expected the end of the line, found '''"),
            ("a = 1\rb = 2", 1, "expected the end of the line, found U+000D"),
            ("a = \"x", 1, "the string is not closed on this line"),
            ("a = 'x\n'", 1, "the string is not closed on this line"),
            ("a = \"x\\\ny\"", 1, "the string is not closed on this line"),
            ("a = \"\\q\"", 1, "unknown escape '\\q'"),
            ("a = \"\\u12\"", 1, "expected 4 hex digits after \\u, found '12'"),
            ("a = \"\\uD800\"", 1, "\\uD800 is not a Unicode scalar value"),
            ("a = \"\\U00110000\"", 1, "\\U00110000 is not a Unicode scalar value"),
            ("a = \"bell\u{7}\"", 1, "U+0007 inside a string"),
            ("a = 1 # bell\u{7}", 1, "U+0007 inside a comment"),
            ("a = \"\"\"x\"\"\"", 1, "multi-line strings are not supported"),
            ("a = '''x'''", 1, "multi-line strings are not supported"),
            ("a = {b = 1}", 1, "inline tables are not supported"),
            ("a = 007", 1, "leading zeros are not allowed, found '007'"),
            ("a = -01.5", 1, "leading zeros are not allowed, found '-01.5'"),
            ("a = 9223372036854775808", 1, "'9223372036854775808' is out of range for an integer"),
            ("a = 1e400", 1, "'1e400' is out of range for a float"),
            ("a = models/x.gguf", 1, "'models/x.gguf' is not a value: expected a quoted string"),
            ("a = 1__0", 1, "'1__0' is not a value"),
            ("a = _1", 1, "'_1' is not a value"),
            ("a = 1_", 1, "'1_' is not a value"),
            ("a = 1.", 1, "'1.' is not a value"),
            ("a = .5", 1, "'.5' is not a value"),
            ("a = 1e", 1, "'1e' is not a value"),
            ("a = 0x1F", 1, "'0x1F' is not a value"),
            ("a = inf", 1, "'inf' is not a value"),
            ("a = True", 1, "'True' is not a value"),
            ("a = 1979-05-27", 1, "'1979-05-27' is not a value"),
            ("a = [1,\n2", 2, "the array opened on line 1 is not closed"),
            ("a = [1 2]", 1, "expected ',' or ']' in the array, found '2'"),
            ("a = [,]", 1, "expected a value, found ','"),
            ("a = [1,,2]", 1, "expected a value, found ','"),
            ("a = [\n  1,\n  x,\n]", 3, "'x' is not a value"),
        ]
        for (document, line, reason) in cases {
            do {
                let entries = try TOMLParser.parse(document)
                XCTFail("\(document.debugDescription) read as \(entries)")
            } catch {
                XCTAssertEqual(error.line, line, document.debugDescription)
                XCTAssertTrue(error.reason.hasPrefix(reason), "\(document.debugDescription): \(error.reason)")
                XCTAssertFalse(error.reason.contains("\n"), error.reason)
            }
        }
    }
}
