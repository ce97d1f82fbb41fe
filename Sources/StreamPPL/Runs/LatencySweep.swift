import Foundation

/// Figure 10 from its measured points: per cache size L, `recompute:L` against streaming `4+(L-4)`, each point
/// measured in a process of its own so its peak memory is its own.
public struct LatencySweep: Sendable {
    public struct Point: Sendable {
        public let cacheSize: Int
        public let recompute: LatencyMeasurement
        public let streaming: LatencyMeasurement

        public init(cacheSize: Int, recompute: LatencyMeasurement, streaming: LatencyMeasurement) {
            self.cacheSize = cacheSize
            self.recompute = recompute
            self.streaming = streaming
        }

        public var speedup: Double { recompute.millisecondsPerToken / streaming.millisecondsPerToken }
    }

    public let points: [Point]

    public init(points: [Point]) {
        self.points = points
    }

    /// The configs measured at cache size `size`.
    public static func configs(cacheSize size: Int) -> (recompute: String, streaming: String) {
        ("recompute:\(size)", "4+\(size - 4)")
    }

    public var csv: String {
        var lines = ["cache_size,recompute_ms_per_token,streaming_ms_per_token,speedup,recompute_peak_rss_mb,streaming_peak_rss_mb,"
            + "model_rss_mb,recompute_tokens,streaming_tokens"]
        for point in points {
            lines.append([String(point.cacheSize), String(point.recompute.millisecondsPerToken), String(point.streaming.millisecondsPerToken),
                          String(point.speedup), megabytes(point.recompute.peakResidentBytes), megabytes(point.streaming.peakResidentBytes),
                          megabytes(point.streaming.modelResidentBytes), String(point.recompute.tokens), String(point.streaming.tokens)]
                .joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var markdown: String {
        var lines = ["| cache size L | `recompute:L` ms/token | `4+(L-4)` ms/token | speedup | `recompute:L` peak RSS (MB) | `4+(L-4)` peak RSS (MB) |",
                     "|---:|---:|---:|---:|---:|---:|"]
        for point in points {
            lines.append("| \(point.cacheSize) | \(String(format: "%.1f", point.recompute.millisecondsPerToken)) (\(point.recompute.tokens) tokens) | "
                + "\(String(format: "%.1f", point.streaming.millisecondsPerToken)) (\(point.streaming.tokens) tokens) | "
                + "\(String(format: "%.1f", point.speedup))x | \(megabytes(point.recompute.peakResidentBytes)) | "
                + "\(megabytes(point.streaming.peakResidentBytes)) |")
        }
        if let model = points.first?.streaming.modelResidentBytes {
            lines += ["", "Resident memory after loading the model (Float32 weights and the mapped file): \(megabytes(model)) MB."]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public var latencySVG: String {
        chart(title: "Per-token latency against cache size", yLabel: "ms per token (log10)") { log10($0.millisecondsPerToken) }
    }

    public var memorySVG: String {
        chart(title: "Peak memory against cache size", yLabel: "peak resident memory (MB)", fromZero: true) {
            Double($0.peakResidentBytes ?? 0) / 1e6
        }
    }

    private func chart(title: String, yLabel: String, fromZero: Bool = false, _ value: (LatencyMeasurement) -> Double) -> String {
        let series = [
            SVGLineChart.Series(name: "recompute:L", points: points.map { (Double($0.cacheSize), value($0.recompute)) }),
            SVGLineChart.Series(name: "4+(L-4) streaming", points: points.map { (Double($0.cacheSize), value($0.streaming)) }),
        ]
        var chart = SVGLineChart(title: title, xLabel: "cache size L (tokens)", yLabel: yLabel, series: series)
        chart.yFromZero = fromZero
        return chart.svg
    }

    private func megabytes(_ bytes: Int?) -> String { bytes.map { String(format: "%.0f", Double($0) / 1e6) } ?? "" }
}
