import Foundation

/// The paper's Figure 2 as files: one heatmap per layer of the average attention (query rows, key columns,
/// log colour scale) laid out in a grid, and the same numbers as CSV.
public enum AttentionHeatmap {
    /// `layer,query,key,weight`: the lower triangle (key ≤ query) of every layer.
    public static func attentionCSV(_ map: AttentionMap) -> String {
        var lines = ["layer,query,key,weight"]
        for layer in 0 ..< map.layerCount {
            for query in 0 ..< map.length {
                for key in 0 ... query {
                    lines.append("\(layer),\(query),\(key),\(number(map.weight(layer: layer, query: query, key: key)))")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Per layer, the mean weight on token 0 over all queries and over queries 1..<length.
    public static func firstTokenCSV(_ map: AttentionMap) -> String {
        var lines = ["layer,mean_weight_on_first_token,mean_weight_on_first_token_excluding_query0"]
        for layer in 0 ..< map.layerCount {
            lines.append("\(layer),\(number(map.meanWeightOnFirstToken(layer: layer, fromQuery: 0))),"
                + "\(number(map.meanWeightOnFirstToken(layer: layer, fromQuery: 1)))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func number(_ value: Double) -> String { String(format: "%.8g", value) }

    static let panelSize = 150.0, panelGap = 34.0, margin = 40.0, header = 80.0, colourBarWidth = 110.0
    /// Weights below 10^floorDecades share the lowest colour, so one tiny entry cannot wash out the scale.
    static let floorDecades = -4.0

    /// A grid of `columns` heatmaps per row (layer 0 top left), a shared log10 colour scale and its bar.
    public static func svg(_ map: AttentionMap, title: String, subtitle: String, columns: Int = 6) -> String {
        let columns = max(1, min(columns, map.layerCount))
        let rows = (map.layerCount + columns - 1) / columns
        let (low, high) = logRange(map)
        let width = margin + Double(columns) * (panelSize + panelGap) + colourBarWidth
        let height = header + Double(rows) * (panelSize + panelGap) + 20
        var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">",
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
                   "<text x=\"\(f(margin))\" y=\"22\" font-size=\"15\" font-weight=\"bold\">\(SVGLineChart.escape(title))</text>",
                   "<text x=\"\(f(margin))\" y=\"42\" font-size=\"12\">\(SVGLineChart.escape(subtitle))</text>",
                   "<text x=\"\(f(margin))\" y=\"58\" font-size=\"12\">Rows: query position, columns: key position. \"token 0\": mean weight of "
                       + "queries 1-\(map.length - 1) on the first token"
                       + String(format: " (attention spread evenly would give %.0f%%).", map.uniformWeightOnFirstToken * 100) + "</text>"]
        for layer in 0 ..< map.layerCount {
            let x = margin + Double(layer % columns) * (panelSize + panelGap)
            let y = header + Double(layer / columns) * (panelSize + panelGap)
            out += panel(map, layer: layer, x: x, y: y, low: low, high: high)
        }
        out += colourBar(x: margin + Double(columns) * (panelSize + panelGap) + 10, y: header + 18,
                         height: min(300, Double(rows) * (panelSize + panelGap) - panelGap - 18), low: low, high: high)
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// The panel of one layer: its title (with the mean weight on token 0 of queries 1...), the lower triangle
    /// of cells, and the first and last position on each axis.
    private static func panel(_ map: AttentionMap, layer: Int, x: Double, y: Double, low: Double, high: Double) -> [String] {
        let cell = panelSize / Double(map.length)
        let onFirst = map.meanWeightOnFirstToken(layer: layer, fromQuery: 1)
        var out = ["<g class=\"heatmap\" id=\"layer-\(layer)\" transform=\"translate(\(f(x)) \(f(y)))\">",
                   "<text x=\"\(f(panelSize / 2))\" y=\"-6\" text-anchor=\"middle\" font-size=\"12\">layer \(layer)"
                       + (onFirst.isFinite ? String(format: " · token 0: %.0f%%", onFirst * 100) : "") + "</text>",
                   "<rect width=\"\(f(panelSize))\" height=\"\(f(panelSize))\" fill=\"#f2f2f2\"/>"]
        for query in 0 ..< map.length {
            for key in 0 ... query {
                let shade = colour(log10(max(map.weight(layer: layer, query: query, key: key), 1e-300)), low: low, high: high)
                out.append("<rect x=\"\(f(Double(key) * cell))\" y=\"\(f(Double(query) * cell))\" width=\"\(f(cell + 0.3))\" "
                    + "height=\"\(f(cell + 0.3))\" fill=\"\(shade)\"/>")
            }
        }
        let last = map.length - 1
        out += ["<rect width=\"\(f(panelSize))\" height=\"\(f(panelSize))\" fill=\"none\" stroke=\"#999\"/>",
                "<text x=\"\(f(cell / 2))\" y=\"\(f(panelSize + 12))\" text-anchor=\"middle\" fill=\"#555\">0</text>",
                "<text x=\"\(f(panelSize - cell / 2))\" y=\"\(f(panelSize + 12))\" text-anchor=\"middle\" fill=\"#555\">\(last)</text>",
                "<text x=\"-4\" y=\"\(f(cell / 2 + 4))\" text-anchor=\"end\" fill=\"#555\">0</text>",
                "<text x=\"-4\" y=\"\(f(panelSize - cell / 2 + 4))\" text-anchor=\"end\" fill=\"#555\">\(last)</text>",
                "</g>"]
        return out
    }

    private static func colourBar(x: Double, y: Double, height: Double, low: Double, high: Double) -> [String] {
        let steps = 64, barWidth = 16.0
        var out = ["<g class=\"colour-bar\" transform=\"translate(\(f(x)) \(f(y)))\">",
                   "<text x=\"0\" y=\"-8\" font-size=\"12\">log10 weight</text>"]
        for step in 0 ..< steps {
            let fraction = Double(step) / Double(steps)
            out.append("<rect x=\"0\" y=\"\(f(fraction * height))\" width=\"\(f(barWidth))\" height=\"\(f(height / Double(steps) + 0.3))\" "
                + "fill=\"\(colour(high - fraction * (high - low), low: low, high: high))\"/>")
        }
        out.append("<rect width=\"\(f(barWidth))\" height=\"\(f(height))\" fill=\"none\" stroke=\"#999\"/>")
        for decade in stride(from: high, through: low, by: -1) {
            let tickY = (high - decade) / (high - low) * height
            let label = decade == low && low == floorDecades ? "≤ \(Int(decade))" : "\(Int(decade))"
            out.append("<line x1=\"\(f(barWidth))\" y1=\"\(f(tickY))\" x2=\"\(f(barWidth + 4))\" y2=\"\(f(tickY))\" stroke=\"#333\"/>")
            out.append("<text x=\"\(f(barWidth + 7))\" y=\"\(f(tickY + 4))\">\(label)</text>")
        }
        out.append("</g>")
        return out
    }

    /// Whole decades covering the weights of every lower triangle, at most from `floorDecades` to 0.
    static func logRange(_ map: AttentionMap) -> (low: Double, high: Double) {
        var smallest = 1.0
        for layer in 0 ..< map.layerCount {
            for query in 0 ..< map.length {
                for key in 0 ... query where map.weight(layer: layer, query: query, key: key) > 0 {
                    smallest = min(smallest, map.weight(layer: layer, query: query, key: key))
                }
            }
        }
        return (max(floorDecades, min(-1, log10(smallest).rounded(.down))), 0)
    }

    /// Viridis, sampled at ten points and interpolated: dark blue for the smallest weights, yellow for 1.
    static let viridis: [(Double, Double, Double)] = [(68, 1, 84), (72, 40, 120), (62, 73, 137), (49, 104, 142), (38, 130, 142),
                                                      (31, 158, 137), (53, 183, 121), (110, 206, 88), (181, 222, 43), (253, 231, 37)]

    static func colour(_ logWeight: Double, low: Double, high: Double) -> String {
        let t = min(1, max(0, (logWeight - low) / (high - low))) * Double(viridis.count - 1)
        let index = min(Int(t), viridis.count - 2), fraction = t - Double(index)
        let (a, b) = (viridis[index], viridis[index + 1])
        func mix(_ x: Double, _ y: Double) -> Int { Int((x + (y - x) * fraction).rounded()) }
        return String(format: "#%02x%02x%02x", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
