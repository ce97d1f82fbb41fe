import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import StreamPPL

/// Figure 2's files: the CSV rows and a well-formed SVG with one heatmap per layer.
final class AttentionHeatmapTests: XCTestCase {
    /// `layers` maps of `length` where layer l puts weight (l+1)/(layers+1) of every query q > 0 on key 0
    /// and spreads the rest evenly over keys 1...q.
    func synthetic(layers: Int, length: Int) -> AttentionMap {
        let weights = (0 ..< layers).map { layer in
            let sink = Double(layer + 1) / Double(layers + 1)
            return (0 ..< length * length).map { cell -> Double in
                let (query, key) = (cell / length, cell % length)
                if key > query { return 0 }
                if query == 0 { return 1 }
                return key == 0 ? sink : (1 - sink) / Double(query)
            }
        }
        return AttentionMap(length: length, sequenceCount: 1, weights: weights)
    }

    func testAttentionCSVHasTheLowerTriangleOfEveryLayer() throws {
        let map = synthetic(layers: 3, length: 5)
        let lines = AttentionHeatmap.attentionCSV(map).split(separator: "\n")
        XCTAssertEqual(lines.first, "layer,query,key,weight")
        XCTAssertEqual(lines.count, 1 + 3 * 15)
        let rows = lines.dropFirst().map { $0.split(separator: ",") }
        XCTAssertTrue(rows.allSatisfy { $0.count == 4 && Int($0[2])! <= Int($0[1])! })
        XCTAssertEqual(rows[1].map(String.init), ["0", "1", "0", "0.25"])
        XCTAssertEqual(rows.last?.map(String.init), ["2", "4", "4", "0.0625"])
        // Every query's weights sum to 1 in the file too.
        for layer in 0 ..< 3 {
            for query in 0 ..< 5 {
                let total = rows.filter { Int($0[0]) == layer && Int($0[1]) == query }.map { Double($0[3])! }.reduce(0, +)
                XCTAssertEqual(total, 1, accuracy: 1e-7)
            }
        }
    }

    func testFirstTokenCSVHasOneRowPerLayer() {
        let lines = AttentionHeatmap.firstTokenCSV(synthetic(layers: 3, length: 5)).split(separator: "\n")
        XCTAssertEqual(lines, ["layer,mean_weight_on_first_token,mean_weight_on_first_token_excluding_query0",
                               "0,0.4,0.25", "1,0.6,0.5", "2,0.8,0.75"])
    }

    func testSVGIsWellFormedWithOnePanelPerLayerAndAColourBar() throws {
        let svg = AttentionHeatmap.svg(synthetic(layers: 30, length: 16), title: "Attention <SmolLM2>", subtitle: "256 sequences & more")
        let counter = ElementCounter()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = counter
        XCTAssertTrue(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
        XCTAssertEqual(counter.groups.filter { $0.class == "heatmap" }.count, 30)
        XCTAssertEqual(counter.groups.filter { $0.class == "colour-bar" }.count, 1)
        XCTAssertEqual(counter.groups.first { $0.id == "layer-29" }?.transform, "translate(\(40 + 5 * 184).0 \(80 + 4 * 184).0)",
                       "6 columns x 5 rows, layer 29 bottom right")
        XCTAssertTrue(counter.texts.contains("Attention <SmolLM2>"))
        XCTAssertTrue(counter.texts.contains("layer 29 · token 0: 97%"))
        // 16 x 17 / 2 cells per panel, on top of each panel's background and frame.
        XCTAssertEqual(counter.rectangles, 1 + 30 * (2 + 136) + 64 + 1)
    }

    func testColoursRunFromDarkToYellowOnALogScale() {
        XCTAssertEqual(AttentionHeatmap.colour(-9, low: -4, high: 0), "#440154")
        XCTAssertEqual(AttentionHeatmap.colour(0, low: -4, high: 0), "#fde725")
        XCTAssertEqual(AttentionHeatmap.logRange(synthetic(layers: 2, length: 16)).low, -2, "smallest weight 0.5/15 is above 1e-2")
        let tiny = AttentionMap(length: 2, sequenceCount: 1, weights: [[1, 0, 1e-9, 1 - 1e-9]])
        XCTAssertEqual(AttentionHeatmap.logRange(tiny).low, AttentionHeatmap.floorDecades)
    }
}

private final class ElementCounter: NSObject, XMLParserDelegate {
    var groups: [(class: String?, id: String?, transform: String?)] = []
    var rectangles = 0
    var texts: [String] = []
    private var text: String?

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if name == "g" { groups.append((attributes["class"], attributes["id"], attributes["transform"])) }
        if name == "rect" { rectangles += 1 }
        if name == "text" { text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let text { texts.append(text) }
        if name == "text" { text = nil }
    }
}
