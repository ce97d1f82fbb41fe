import Foundation

/// What `generate --out DIR` keeps of a conversation: `DIR/<config>/turns.csv` (a row per turn) and
/// `DIR/<config>/transcript.md` (prompts and answers), rewritten whole every few turns so that each is always complete up
/// to some turn, and `DIR/<config>/status.txt` saying whether the conversation ended as asked. `plots(in:)` draws every
/// config found in `DIR` into one set of charts, so two runs with the same `--out` (say `4+1020` and `dense`) compare.
public struct ChatReport {
    /// One row of `turns.csv`.
    public struct Row: Sendable, Equatable {
        public var turn: Int
        public var promptTokens: Int
        public var generatedTokens: Int
        /// Tokens generated in the conversation up to and including this turn.
        public var generatedTotal: Int
        public var stop: String
        public var cacheTokens: Int
        public var residentMegabytes: Double?
        public var prefillTokensPerSecond: Double?
        public var decodeTokensPerSecond: Double?
        /// The share of the answer's 4-grams of token ids that already occurred earlier in the answer: near 0 for prose,
        /// near 1 for an answer stuck in a loop.
        public var repeatedFourGrams: Double

        static let header = "turn,prompt_tokens,generated_tokens,generated_total,stop,cache_tokens,resident_mb,prefill_tokens_per_s,"
            + "decode_tokens_per_s,repeated_4grams"

        var csvLine: String {
            func number(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "" }
            return [String(turn), String(promptTokens), String(generatedTokens), String(generatedTotal), stop, String(cacheTokens),
                    number(residentMegabytes), number(prefillTokensPerSecond), number(decodeTokensPerSecond),
                    String(format: "%.4f", repeatedFourGrams)].joined(separator: ",")
        }
    }

    public let folder: String
    public let config: String
    public private(set) var rows: [Row] = []
    private var transcript: String

    /// Starts the report of `config` in `folder/<config>`, replacing an earlier one of the same config.
    public init(folder: String, config: String, model: String, template: ChatTemplate) throws(ReportError) {
        self.folder = folder
        self.config = config
        transcript = "# Conversation under `\(config)`\n\nModel `\(model)`, template `\(template.rawValue)`.\n"
        let path = Self.configFolder(folder, config)
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ReportError(path: path, reason: "cannot create the folder: \(error.localizedDescription)")
        }
    }

    /// The folder of `config`'s files: the config with every character a file name should not hold as `_`.
    static func configFolder(_ folder: String, _ config: String) -> String {
        let name = String(config.map { $0.isLetter || $0.isNumber || "+:.-".contains($0) ? $0 : "_" })
        return (folder as NSString).appendingPathComponent(name)
    }

    public mutating func record(_ turn: Turn, prompt: String) {
        rows.append(Row(turn: turn.turn, promptTokens: turn.promptIDs.count, generatedTokens: turn.generatedIDs.count,
                        generatedTotal: (rows.last?.generatedTotal ?? 0) + turn.generatedIDs.count, stop: turn.stop.rawValue,
                        cacheTokens: turn.cacheTokens, residentMegabytes: turn.residentBytes.map { Double($0) / 1e6 },
                        prefillTokensPerSecond: turn.prefillTokensPerSecond, decodeTokensPerSecond: turn.decodeTokensPerSecond,
                        repeatedFourGrams: Self.repeatedFourGrams(turn.generatedIDs)))
        transcript += "\n## Turn \(turn.turn) (\(turn.generatedIDs.count) tokens, \(turn.stop.rawValue); "
            + "\((rows.last?.generatedTotal ?? 0)) generated so far, \(turn.cacheTokens) in the cache)\n\n"
            + prompt.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n")
            + "\n\n```text\n" + turn.text.replacingOccurrences(of: "```", with: "` ` `") + "\n```\n"
    }

    public static func repeatedFourGrams(_ ids: [Int32]) -> Double {
        guard ids.count >= 5 else { return 0 }
        var seen = Set<[Int32]>(), repeated = 0
        for start in 0 ... ids.count - 4 where !seen.insert(Array(ids[start ..< start + 4])).inserted {
            repeated += 1
        }
        return Double(repeated) / Double(ids.count - 3)
    }

    /// Rewrites `turns.csv`, `transcript.md` and `status.txt` (`complete` or why not).
    public func write(status: String) throws(ReportError) {
        let path = Self.configFolder(folder, config)
        func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
        try DurableFile.write(([Row.header] + rows.map(\.csvLine)).joined(separator: "\n") + "\n", to: file("turns.csv"))
        try DurableFile.write(transcript, to: file("transcript.md"))
        try DurableFile.write(status + "\n", to: file("status.txt"))
    }

    /// The rows of a `turns.csv` this report wrote.
    static func readRows(_ path: String) throws(ReportError) -> [Row] {
        let table = try CSVTable(contentsOfFile: path)
        guard table.header.joined(separator: ",") == Row.header else { throw ReportError(path: path, reason: "not a turns.csv of `generate --out`") }
        return try zip(table.rows, table.rowLines).map { (fields, line) throws(ReportError) in
            guard let turn = Int(fields[0]), let prompt = Int(fields[1]), let generated = Int(fields[2]), let total = Int(fields[3]),
                  let cache = Int(fields[5]), let repeated = Double(fields[9]) else {
                throw ReportError(path: path, reason: "line \(line): not a row of turns.csv")
            }
            return Row(turn: turn, promptTokens: prompt, generatedTokens: generated, generatedTotal: total, stop: fields[4], cacheTokens: cache,
                       residentMegabytes: Double(fields[6]), prefillTokensPerSecond: Double(fields[7]), decodeTokensPerSecond: Double(fields[8]),
                       repeatedFourGrams: repeated)
        }
    }

    /// `memory.svg`, `speed.svg` and `repetition.svg` in `folder`, one line per config folder that has a `turns.csv`,
    /// against the tokens generated so far.
    public static func plots(in folder: String) throws(ReportError) {
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        var configs: [(name: String, rows: [Row])] = []
        for entry in entries {
            let csv = ((folder as NSString).appendingPathComponent(entry) as NSString).appendingPathComponent("turns.csv")
            if FileManager.default.fileExists(atPath: csv) { configs.append((entry, try readRows(csv))) }
        }
        func chart(_ title: String, _ yLabel: String, fromZero: Bool, _ value: ([Row], Int) -> Double?) -> String {
            let series = configs.map { config in
                SVGLineChart.Series(name: config.name, points: config.rows.indices.compactMap { index in
                    value(config.rows, index).map { (Double(config.rows[index].generatedTotal), $0) }
                })
            }
            var chart = SVGLineChart(title: title, xLabel: "tokens generated in the conversation", yLabel: yLabel, series: series)
            chart.yFromZero = fromZero
            return chart.svg
        }
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        try DurableFile.write(chart("Resident memory along the conversation", "resident memory after the turn (MB)", fromZero: true) {
            $0[$1].residentMegabytes
        }, to: path("memory.svg"))
        try DurableFile.write(chart("Decoding speed along the conversation", "decode tokens/s in the turn", fromZero: true) {
            $0[$1].decodeTokensPerSecond
        }, to: path("speed.svg"))
        // A single answer's share swings; the mean over the last 10 turns shows the trend.
        try DurableFile.write(chart("Repetition in the answers (mean of the last 10 turns)", "share of repeated 4-grams", fromZero: true) { rows, index in
            let window = rows[max(0, index - 9) ... index]
            return window.map(\.repeatedFourGrams).reduce(0, +) / Double(window.count)
        }, to: path("repetition.svg"))
    }
}
