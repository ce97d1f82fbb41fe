import XCTest
@testable import StreamPPL

/// `kept.csv` / `kept.svg`: the share of each layer's KV heads holding each of the first stream tokens.
final class EarlyTokensPlotTests: XCTestCase {
    func testSharesPerLayerAndPosition() {
        // Two layers of two KV heads: layer 0's heads both hold token 0, one of them token 3; layer 1 holds nothing early.
        let panel = EarlyTokensPlot.Panel(label: "h2o:2+2", kept: [[[0, 3], [0]], [[], []]])
        XCTAssertEqual(panel.share(layer: 0, position: 0), 1)
        XCTAssertEqual(panel.share(layer: 0, position: 3), 0.5)
        XCTAssertEqual(panel.share(layer: 1, position: 0), 0)
        let rows = EarlyTokensPlot.csv([panel]).split(separator: "\n")
        XCTAssertEqual(rows.first, "config,layer,position,share_of_kv_heads")
        XCTAssertEqual(rows.count, 1 + 2 * EvaluationJob.Result.earlyTokenCount)
        XCTAssertEqual(rows[1], "h2o:2+2,0,0,1.0")
        XCTAssertEqual(rows[4], "h2o:2+2,0,3,0.5")
        let svg = EarlyTokensPlot.svg([panel, EarlyTokensPlot.Panel(label: "4+60", kept: [[[0, 1, 2, 3]], [[0, 1, 2, 3]]])], title: "t")
        XCTAssertEqual(svg.components(separatedBy: "class=\"panel\"").count - 1, 2, "one panel per config")
        XCTAssertEqual(svg.components(separatedBy: "<rect x=").count - 1, 4 * EvaluationJob.Result.earlyTokenCount, "a cell per layer and position")
    }
}
