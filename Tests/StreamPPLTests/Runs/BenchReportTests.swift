import Foundation
import XCTest
@testable import StreamPPL
@testable import StreamPPLKernels

/// `bench`'s report through the library, on the tiny model with tiny sizes: every section and row in its place.
final class BenchReportTests: TemporaryFilesTestCase {
    func testTheReportHasEverySectionAndARowPerMeasurement() throws {
        let data = keep(try TemporaryFiles.directory())
        try Data("It was the best of times, it was the worst of times.\n".utf8).write(to: URL(fileURLWithPath: data + "/book.txt"))
        let model = try keep(TinyLlama.writer().write())
        let settings = BenchSettings(caches: [try CacheConfig("2+8"), try CacheConfig("4+4"), try CacheConfig("dense"), try CacheConfig("tova:10")],
                                     chunkSizes: [4, 8], tokens: 12, exactTokens: 4, recompute: [8], recomputePasses: 2)
        let events = RecordingEvents()
        let report = try BenchReport.markdown(gguf: try GGUFFile(path: model), modelPath: model, data: data, settings: settings, events: events)
        let lines = report.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)

        XCTAssertEqual(lines.first, "# streamppl bench")
        XCTAssertTrue(lines.contains("Machine: \(MachineInfo.description)  "))
        XCTAssertTrue(lines.contains { $0.hasPrefix("Model: `\(model)` (") && $0.hasSuffix("), data: `\(data)`  ") })
        XCTAssertTrue(lines.contains { $0.hasPrefix("sgemm (OpenBLAS, 256x576 by 576x1536, all cores), measured in this run: **") })
        // Jobs side by side are measured where there are cores to share.
        let sideBySide = Parallel.cores > 1
        let headings = lines.filter { $0.hasPrefix("## ") }
        XCTAssertEqual(headings, [
            "## Chunked path (12 timed predictions)",
            "## Token-by-token path (4 predictions, one token per forward pass) vs. the best chunk size",
            "## Eviction by attention vs. `x+y` of the same budget, token by token",
        ] + (sideBySide ? ["## Jobs side by side: `4+4`, \(Parallel.cores) jobs, one at a time with \(Parallel.cores) threads or all at once with one thread each"] : [])
          + ["## Sliding window with re-computation: one batched pass from scratch over L tokens per prediction"]
          + headings.suffix(2))
        XCTAssertTrue(headings.suffix(2).first?.hasPrefix("## Where the time goes: `4+4`, chunked, chunk ") == true, "the middle chunked config: \(headings)")
        XCTAssertTrue(headings.last?.hasPrefix("## Where the time goes: `4+4`, token-by-token, 4 predictions (") == true, "\(headings)")

        for config in ["2+8", "4+4", "dense"] {
            XCTAssertEqual(lines.filter { $0.hasPrefix("| `\(config)` | 4 |") || $0.hasPrefix("| `\(config)` | 8 |") }.count, 2, config)
        }
        XCTAssertTrue(lines.contains { $0.hasPrefix("| `tova:10` | ") && $0.hasSuffix("| none (evicts by attention) | |") }, "no chunked path")
        XCTAssertTrue(lines.contains { $0.hasPrefix("| `tova:10` | ") && $0.contains("| `2+8` | ") }, "beside x+y of its budget")
        XCTAssertEqual(lines.filter { $0.hasPrefix("| `recompute:8` | ") }.count, 1)
        for operation in ForwardProfile.Operation.allCases {
            XCTAssertEqual(lines.filter { $0.hasPrefix("| \(operation.rawValue) | ") }.count, 2, operation.rawValue)
        }
        XCTAssertEqual(lines.filter { $0.hasPrefix("| other (tokenizing, logging, bookkeeping) | ") }.count, 2)
        XCTAssertTrue(lines.contains { $0.hasPrefix("Peak resident memory of this whole run: ") })
        XCTAssertFalse(report.contains("nan"), "every rate is measured over at least one prediction")

        // Each measured row is handed to the caller as it comes: 3 x 2 chunked, 4 token-by-token, 2 side by side, 1 recompute.
        let rows = events.notices.compactMap { notice -> String? in if case let .benchRowMeasured(row) = notice { row } else { nil } }
        XCTAssertEqual(rows.count, sideBySide ? 13 : 11)
        XCTAssertTrue(rows.allSatisfy(lines.contains))
    }

    func testSettingsThatWouldDivideByZeroAreTypedErrorsNamingTheSetting() throws {
        let cache = try CacheConfig("4+4")
        let cases: [(BenchSettings, String)] = [
            (BenchSettings(caches: [], chunkSizes: [4]), "caches"),
            (BenchSettings(caches: [cache], chunkSizes: []), "chunk-sizes"),
            (BenchSettings(caches: [cache], chunkSizes: [4, 0]), "chunk-sizes"),
            (BenchSettings(caches: [cache], chunkSizes: [4], tokens: 0), "tokens"),
            (BenchSettings(caches: [cache], chunkSizes: [4], exactTokens: -1), "exact-tokens"),
            (BenchSettings(caches: [cache], chunkSizes: [4], recompute: [-8]), "recompute"),
            (BenchSettings(caches: [cache], chunkSizes: [4], recomputePasses: 0), "recompute-passes"),
        ]
        for (settings, setting) in cases {
            XCTAssertThrowsError(try settings.validate(), setting) {
                guard case let .invalid(named, _, _)? = $0 as? BenchError else { return XCTFail("\($0)") }
                XCTAssertEqual(named, setting)
            }
        }
        XCTAssertNoThrow(try BenchSettings(caches: [cache], chunkSizes: [4], recompute: []).validate(), "no recompute lengths: that section is empty")
    }
}
