import XCTest
@testable import StreamPPL

/// A committed reference log in the format of `streamppl run`'s per-token log (gzip CSV `config,doc,position,token,nll`),
/// as scripts/llamacpp-reference-nll.py and scripts/numpy-reference-nll.py write them.
enum ReferenceLog {
    struct Row {
        let config: String, document: Int, position: Int, token: Int32, nll: Double
    }

    /// The rows of the fixture at `name` (relative to Fixtures/reference).
    static func rows(_ name: String) throws -> [Row] {
        let path = try TestPaths.fixture(name)
        var reader = CSVRecordReader(path: path)
        let records = try reader.read(try Dataset.readBytes(path)) + (try reader.finish().map { [$0] } ?? [])
        return try records.dropFirst().map { record in
            let fields = record.fields
            guard fields.count == 5, let document = Int(fields[1]), let position = Int(fields[2]), let token = Int32(fields[3]),
                  let nll = Double(fields[4]) else { throw ReportError(path: path, reason: "line \(record.line): not config,doc,position,token,nll") }
            return Row(config: fields[0], document: document, position: position, token: token, nll: nll)
        }
    }

    /// Checks `ours` against `rows` token for token (ids, documents, positions) and returns the NLL agreement.
    static func compare(_ ours: [Prediction], _ rows: [Row], _ label: String,
                        file: StaticString = #filePath, line: UInt = #line) -> ReferenceFixtureTests.Agreement {
        XCTAssertEqual(ours.count, rows.count, "\(label): predictions", file: file, line: line)
        XCTAssertEqual(ours.map(\.token), rows.map(\.token), "\(label): token ids", file: file, line: line)
        XCTAssertEqual(ours.map(\.position), rows.map(\.position), "\(label): positions", file: file, line: line)
        XCTAssertEqual(ours.map(\.document), rows.map(\.document), "\(label): documents", file: file, line: line)
        return ReferenceFixtureTests.Agreement(ours.map(\.nll), rows.map(\.nll))
    }
}
