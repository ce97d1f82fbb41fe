/// METHOD.md §4 / the paper's Figure 3: log-perplexity against position in the stream, one line per config,
/// each point the mean NLL of a moving window of predictions.
public enum PerplexityPlot {
    /// `window` predictions per moving average (rounded to whole statistics blocks).
    public static func svg(results: [ConfigResult], labels: [String]? = nil, title: String, window: Int = 1024) -> String {
        let blocksPerWindow = max(1, window / NLLStatistics.blockSize)
        let series = results.enumerated().map { index, result in
            SVGLineChart.Series(name: labels?[index] ?? result.config, points: movingAverage(result.statistics, blocks: blocksPerWindow))
        }
        let label = blocksPerWindow * NLLStatistics.blockSize
        return SVGLineChart(title: title, xLabel: "input length (tokens)",
                            yLabel: "log PPL (mean NLL over \(label) tokens)", series: series).svg
    }

    /// (end position, mean NLL of the `blocks` blocks ending there), at most ~600 points.
    static func movingAverage(_ statistics: NLLStatistics, blocks: Int) -> [(x: Double, y: Double)] {
        let sums = statistics.blockSums
        guard !sums.isEmpty else { return [] }
        let size = NLLStatistics.blockSize
        let step = max(1, sums.count / 600)
        var points: [(x: Double, y: Double)] = []
        var index = min(blocks, sums.count) - 1
        while index < sums.count {
            let first = max(0, index - blocks + 1)
            let end = min(statistics.count, (index + 1) * size)
            let predictions = end - first * size
            points.append((Double(end), sums[first ... index].reduce(0, +) / Double(predictions)))
            index += step
        }
        return points
    }
}
