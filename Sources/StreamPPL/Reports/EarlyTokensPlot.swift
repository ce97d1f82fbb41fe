import Foundation

/// Which of the stream's first tokens each config's cache still held when its job ended, per layer (`kept.csv`,
/// `kept.svg`): does eviction by attention (h2o, tova) find the attention sinks that `x+y` keeps by rule?
public enum EarlyTokensPlot {
    /// One config's (and dataset's) cache at the end: per layer, per KV head, the early stream indices held.
    public struct Panel: Sendable {
        public let label: String
        public let kept: [[[Int]]]

        public init(label: String, kept: [[[Int]]]) {
            self.label = label
            self.kept = kept
        }

        var layers: Int { kept.count }

        /// The share of layer `layer`'s KV heads holding stream token `position`.
        func share(layer: Int, position: Int) -> Double {
            let heads = kept[layer]
            return Double(heads.filter { $0.contains(position) }.count) / Double(max(heads.count, 1))
        }
    }

    static let positions = EvaluationJob.Result.earlyTokenCount

    /// `label,layer,position,share_of_kv_heads`, one row per layer and early position.
    public static func csv(_ panels: [Panel]) -> String {
        var lines = ["config,layer,position,share_of_kv_heads"]
        for panel in panels {
            for layer in 0 ..< panel.layers {
                for position in 0 ..< positions {
                    lines.append("\(NLLLog.csvField(panel.label)),\(layer),\(position),\(panel.share(layer: layer, position: position))")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static let cell = 9.0, gap = 36.0, margin = 40.0, header = 80.0

    /// One panel per config side by side: columns the first stream positions, rows the layers (0 on top), a cell's
    /// colour the share of the layer's KV heads holding the token (dark: none, yellow: all).
    public static func svg(_ panels: [Panel], title: String) -> String {
        let layers = panels.map(\.layers).max() ?? 0
        let panelWidth = cell * Double(positions), panelHeight = cell * Double(layers)
        let explanation = "Which of the first \(positions) stream tokens each cache holds at the end, per layer (rows, layer 0 on top): "
            + "yellow, every KV head of the layer; dark, none."
        // Wide enough for the panels and for the longest line of text (about 6.5 px a character at 12 px).
        let width = max(margin * 2 + Double(panels.count) * (panelWidth + gap), margin * 2 + 6.5 * Double(max(explanation.count, title.count)))
        let height = header + panelHeight + 40
        var out = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"11\">",
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
                   "<text x=\"\(f(margin))\" y=\"20\" font-size=\"15\" font-weight=\"bold\">The first tokens each cache holds at the end</text>",
                   "<text x=\"\(f(margin))\" y=\"37\" font-size=\"12\">\(SVGLineChart.escape(title))</text>",
                   "<text x=\"\(f(margin))\" y=\"52\" font-size=\"12\">\(explanation)</text>"]
        for (index, panel) in panels.enumerated() {
            let x = margin + Double(index) * (panelWidth + gap)
            out.append("<g class=\"panel\" transform=\"translate(\(f(x)) \(f(header)))\">")
            out.append("<text x=\"\(f(panelWidth / 2))\" y=\"-8\" text-anchor=\"middle\" font-size=\"12\">\(SVGLineChart.escape(panel.label))</text>")
            for layer in 0 ..< panel.layers {
                for position in 0 ..< positions {
                    let shade = AttentionHeatmap.colour(panel.share(layer: layer, position: position), low: 0, high: 1)
                    out.append("<rect x=\"\(f(Double(position) * cell))\" y=\"\(f(Double(layer) * cell))\" width=\"\(f(cell))\" "
                        + "height=\"\(f(cell))\" fill=\"\(shade)\"/>")
                }
            }
            out += ["<rect width=\"\(f(panelWidth))\" height=\"\(f(Double(panel.layers) * cell))\" fill=\"none\" stroke=\"#999\"/>",
                    "<text x=\"\(f(cell / 2))\" y=\"\(f(Double(panel.layers) * cell + 12))\" text-anchor=\"middle\" fill=\"#555\">0</text>",
                    "<text x=\"\(f(panelWidth - cell / 2))\" y=\"\(f(Double(panel.layers) * cell + 12))\" text-anchor=\"middle\" "
                        + "fill=\"#555\">\(positions - 1)</text>",
                    "<text x=\"-4\" y=\"\(f(cell - 1))\" text-anchor=\"end\" fill=\"#555\">0</text>",
                    "<text x=\"-4\" y=\"\(f(Double(panel.layers) * cell - 1))\" text-anchor=\"end\" fill=\"#555\">\(panel.layers - 1)</text>",
                    "</g>"]
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
