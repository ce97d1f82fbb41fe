import Foundation

/// What identifies a row of `summary.csv`: a run may evaluate several configs on several datasets.
public struct SummaryKey: Hashable, Sendable, CustomStringConvertible {
    public let config: String
    public let data: String

    public init(config: String, data: String) {
        self.config = config
        self.data = data
    }

    public var description: String { data.isEmpty ? "config '\(config)'" : "config '\(config)' on '\(data)'" }
}

/// One row of a `summary.csv` (RunSummary), the columns a comparison needs.
public struct SummaryRow: Sendable, Equatable {
    public let key: SummaryKey
    public let tokens: Int
    public let meanNLL: Double
    public let perplexity: Double
    /// Nil in files written before the column existed (METHOD.md §4's tokenizer-neutral score).
    public let bitsPerByte: Double?
    /// False for a run interrupted before its stream ended.
    public let complete: Bool
    /// Nil in files written before the column existed, or when it is empty.
    public let modelSHA256: String?
    public let line: Int
}

/// A `summary.csv` read back: `config`, `tokens`, `mean_nll` and `ppl` are required; `data`, `complete`,
/// `model_sha256` and `bits_per_byte` are optional (older files lack some) and other columns are ignored.
public struct SummaryFile: Sendable {
    public let path: String
    public let rows: [SummaryRow]

    public init(contentsOfFile path: String) throws(ReportError) {
        try self.init(table: CSVTable(contentsOfFile: path))
    }

    public init(table: CSVTable) throws(ReportError) {
        let path = table.path
        let required = try table.requiredColumns(["config", "tokens", "mean_nll", "ppl"])
        let (config, tokens, meanNLL, perplexity) = (required[0], required[1], required[2], required[3])
        let data = table.column("data"), complete = table.column("complete"), modelSHA256 = table.column("model_sha256")
        let bitsPerByte = table.column("bits_per_byte")
        var rows: [SummaryRow] = []
        var seen: Set<SummaryKey> = []
        for (fields, line) in zip(table.rows, table.rowLines) {
            func number(_ column: Int) throws(ReportError) -> Double {
                guard let value = Double(fields[column]) else {
                    throw ReportError(path: path, reason: "line \(line): \(table.header[column]) '\(fields[column])' is not a number")
                }
                return value
            }
            let key = SummaryKey(config: fields[config], data: data.map { fields[$0] } ?? "")
            guard seen.insert(key).inserted else { throw ReportError(path: path, reason: "line \(line): a second row for \(key)") }
            guard let tokenCount = Int(fields[tokens]), tokenCount >= 0 else {
                throw ReportError(path: path, reason: "line \(line): tokens '\(fields[tokens])' is not a whole number >= 0")
            }
            let completeText = complete.map { fields[$0] } ?? "true"
            guard completeText == "true" || completeText == "false" else {
                throw ReportError(path: path, reason: "line \(line): complete '\(completeText)' is not true or false")
            }
            let sha = modelSHA256.map { fields[$0] }
            rows.append(SummaryRow(key: key, tokens: tokenCount, meanNLL: try number(meanNLL), perplexity: try number(perplexity),
                                   bitsPerByte: try bitsPerByte.map { column throws(ReportError) in try number(column) },
                                   complete: completeText == "true", modelSHA256: sha?.isEmpty == false ? sha : nil, line: line))
        }
        guard !rows.isEmpty else { throw ReportError(path: path, reason: "no rows after the header") }
        self.path = path
        self.rows = rows
    }
}

/// How far a candidate's perplexity may move from the baseline's: `absolute + relative × |baseline|`.
public struct ComparisonTolerance: Sendable, Equatable, CustomStringConvertible {
    public var relative: Double
    public var absolute: Double
    /// Only a rise fails (a lower perplexity is not a regression); otherwise any change beyond tolerance
    /// does, since the evaluation is deterministic.
    public var oneSided: Bool

    public init(relative: Double = 0.005, absolute: Double = 0, oneSided: Bool = false) {
        self.relative = relative
        self.absolute = absolute
        self.oneSided = oneSided
    }

    public func allowedChange(from baseline: Double) -> Double { absolute + relative * abs(baseline) }

    /// Written so that a NaN perplexity on either side fails (`SummaryComparison` refuses such rows before).
    public func accepts(baseline: Double, candidate: Double) -> Bool {
        let change = candidate - baseline
        return oneSided ? change <= allowedChange(from: baseline) : abs(change) <= allowedChange(from: baseline)
    }

    public var description: String { "rtol \(relative), atol \(absolute)" + (oneSided ? ", one-sided" : "") }
}

/// One row's perplexity in both files.
public struct RowComparison: Sendable, Equatable {
    public let key: SummaryKey
    public let tokens: Int
    public let baseline: Double
    public let candidate: Double
    /// Bits per byte in each file, shown beside the perplexities (the tolerance applies to perplexity only).
    public let baselineBitsPerByte: Double?
    public let candidateBitsPerByte: Double?
    public let allowedChange: Double
    public let passed: Bool

    public var change: Double { candidate - baseline }
    public var relativeChange: Double { change / abs(baseline) }
}

/// `streamppl compare`: two `summary.csv` files matched row by row on (config, data), each row's perplexity
/// checked against a tolerance. Throws, naming the file and the reason, when the files are not comparable.
public struct SummaryComparison: Sendable {
    public let baselinePath: String
    public let candidatePath: String
    public let tolerance: ComparisonTolerance
    /// In the baseline's order.
    public let rows: [RowComparison]

    public var passed: Bool { rows.allSatisfy(\.passed) }

    public init(baseline: SummaryFile, candidate: SummaryFile, tolerance: ComparisonTolerance) throws(ReportError) {
        for file in [baseline, candidate] {
            if let partial = file.rows.first(where: { !$0.complete }) {
                throw ReportError(path: file.path, reason: "line \(partial.line): \(partial.key) is a partial run (complete=false)")
            }
            // A NaN or infinite perplexity is a run that broke, not a measurement: there is nothing to compare.
            if let broken = file.rows.first(where: { !$0.perplexity.isFinite || !$0.meanNLL.isFinite }) {
                throw ReportError(path: file.path, reason: "line \(broken.line): \(broken.key) has ppl \(broken.perplexity), not a finite number")
            }
        }
        let candidateRows = Dictionary(candidate.rows.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let baselineKeys = Set(baseline.rows.map(\.key))
        let missing = baseline.rows.map(\.key).filter { candidateRows[$0] == nil }
        let extra = candidate.rows.map(\.key).filter { !baselineKeys.contains($0) }
        if !missing.isEmpty || !extra.isEmpty {
            let parts = [("lacks", missing), ("has extra", extra)].filter { !$0.1.isEmpty }
                .map { "\($0.0) \($0.1.map(\.description).joined(separator: ", "))" }
            throw ReportError(path: candidate.path, reason: "different rows from \(baseline.path): " + parts.joined(separator: "; "))
        }
        var rows: [RowComparison] = []
        for old in baseline.rows {
            guard let new = candidateRows[old.key] else { continue }
            if let oldSHA = old.modelSHA256, let newSHA = new.modelSHA256, oldSHA != newSHA {
                throw ReportError(path: candidate.path, reason: "line \(new.line): model_sha256 \(newSHA.prefix(16))… for \(old.key), "
                    + "\(baseline.path) has \(oldSHA.prefix(16))… (a different model)")
            }
            guard old.tokens == new.tokens else {
                throw ReportError(path: candidate.path, reason: "line \(new.line): \(new.tokens) tokens for \(old.key), \(baseline.path) has \(old.tokens)")
            }
            rows.append(RowComparison(key: old.key, tokens: old.tokens, baseline: old.perplexity, candidate: new.perplexity,
                                      baselineBitsPerByte: old.bitsPerByte, candidateBitsPerByte: new.bitsPerByte,
                                      allowedChange: tolerance.allowedChange(from: old.perplexity),
                                      passed: tolerance.accepts(baseline: old.perplexity, candidate: new.perplexity)))
        }
        baselinePath = baseline.path
        candidatePath = candidate.path
        self.tolerance = tolerance
        self.rows = rows
    }

    // MARK: Text

    /// A data column only when the rows span more than one dataset.
    private var showsData: Bool { Set(rows.map(\.key.data)).count > 1 }

    /// Bits-per-byte columns only when a file has them ("-" for the rows of one that lacks them).
    private var showsBitsPerByte: Bool { rows.contains { $0.baselineBitsPerByte != nil || $0.candidateBitsPerByte != nil } }

    /// Config, data, tokens, both perplexities, the change and its relative size, both bits per byte, ok/FAIL;
    /// columns aligned.
    public var table: String {
        var header = ["config", "data", "tokens", "baseline ppl", "candidate ppl", "delta", "delta %", "baseline bpb", "candidate bpb", "status"]
        let bitsPerByte = { (value: Double?) in value.map { String(format: "%.4f", $0) } ?? "-" }
        var cells = rows.map { row in
            [row.key.config, row.key.data, String(row.tokens), String(format: "%.4f", row.baseline), String(format: "%.4f", row.candidate),
             String(format: "%+.4g", row.change), String(format: "%+.3g%%", row.relativeChange * 100),
             bitsPerByte(row.baselineBitsPerByte), bitsPerByte(row.candidateBitsPerByte), row.passed ? "ok" : "FAIL"]
        }
        let dropped = (showsData ? [] : [1]) + (showsBitsPerByte ? [] : [7, 8])
        for column in dropped.reversed() {
            header.remove(at: column)
            cells = cells.map { var row = $0; row.remove(at: column); return row }
        }
        let leftAligned = showsData ? 2 : 1
        let widths = header.indices.map { column in ([header] + cells).map { $0[column].count }.max() ?? 0 }
        return ([header] + cells).map { line in
            line.enumerated().map { column, text in
                let padding = String(repeating: " ", count: widths[column] - text.count)
                if column == line.count - 1 { return text }
                return column < leftAligned ? text + padding : padding + text
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    public var verdict: String {
        let failures = rows.filter { !$0.passed }
        guard !failures.isEmpty else { return "PASS: all \(rows.count) rows within tolerance (\(tolerance.description))" }
        return "FAIL: \(failures.count) of \(rows.count) rows beyond tolerance (\(tolerance.description)): "
            + failures.map { name(of: $0.key) }.joined(separator: ", ")
    }

    /// How the verdict and the JUnit report name a row: by config, and by data as the table does.
    private func name(of key: SummaryKey) -> String { showsData ? "\(key.config) [\(key.data)]" : key.config }

    private func failureMessage(_ row: RowComparison) -> String {
        let moved = "ppl \(row.baseline) -> \(row.candidate) (\(String(format: "%+.3g%%", row.relativeChange * 100)))"
        let bound = tolerance.oneSided ? "rose by more than" : "moved by more than ±"
        return moved + ": \(bound)\(String(format: "%.4g", row.allowedChange))"
    }

    // MARK: JUnit

    /// One testcase per row, a `<failure>` for each row beyond tolerance.
    public var junitXML: String {
        let cases = rows.map { row in
            let properties = Self.properties([("baseline_ppl", "\(row.baseline)"), ("candidate_ppl", "\(row.candidate)"),
                                              ("tokens", "\(row.tokens)"), ("allowed_change", "\(row.allowedChange)")], indent: "      ")
            let failure = row.passed ? "" : "      <failure type=\"regression\" message=\"\(Self.escaped(failureMessage(row)))\"/>\n"
            return "    <testcase classname=\"streamppl compare\" name=\"\(Self.escaped(name(of: row.key)))\">\n\(properties)\(failure)    </testcase>\n"
        }
        return Self.junitDocument(properties: Self.suiteProperties(baseline: baselinePath, candidate: candidatePath, tolerance: tolerance),
                                  cases: cases, failures: rows.filter { !$0.passed }.count, errors: 0)
    }

    /// The report for files that could not be compared: one testcase holding an `<error>`.
    public static func junitXML(notComparable problem: String, baseline: String, candidate: String, tolerance: ComparisonTolerance) -> String {
        let testcase = "    <testcase classname=\"streamppl compare\" name=\"comparable\">\n"
            + "      <error type=\"not comparable\" message=\"\(escaped(problem))\"/>\n    </testcase>\n"
        return junitDocument(properties: suiteProperties(baseline: baseline, candidate: candidate, tolerance: tolerance),
                             cases: [testcase], failures: 0, errors: 1)
    }

    private static func suiteProperties(baseline: String, candidate: String, tolerance: ComparisonTolerance) -> [(String, String)] {
        [("baseline", baseline), ("candidate", candidate), ("rtol", "\(tolerance.relative)"), ("atol", "\(tolerance.absolute)"),
         ("one_sided", "\(tolerance.oneSided)")]
    }

    private static func junitDocument(properties: [(String, String)], cases: [String], failures: Int, errors: Int) -> String {
        let counts = "name=\"streamppl compare\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"\(errors)\""
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites \(counts)>\n  <testsuite \(counts) skipped=\"0\">\n"
            + self.properties(properties, indent: "    ") + cases.joined() + "  </testsuite>\n</testsuites>\n"
    }

    private static func properties(_ entries: [(String, String)], indent: String) -> String {
        "\(indent)<properties>\n"
            + entries.map { "\(indent)  <property name=\"\(escaped($0.0))\" value=\"\(escaped($0.1))\"/>\n" }.joined()
            + "\(indent)</properties>\n"
    }

    /// Text for an XML 1.0 attribute value: markup characters as entities, line breaks and tabs as character
    /// references (so attribute normalization keeps them), other control characters, which XML 1.0 cannot
    /// hold at all, as U+FFFD.
    static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\n", "\r", "\t": result += "&#\(scalar.value);"
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: result += "\u{FFFD}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
