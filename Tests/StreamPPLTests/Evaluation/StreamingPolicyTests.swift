import XCTest
@testable import StreamPPL

/// Every cache policy of METHOD.md §2 on SmolLM2: the chunked path equals the token-by-token definition, and
/// the sink prefix changes what is attended to, never what is scored.
final class StreamingPolicyTests: XCTestCase {
    /// Small windows so that eviction starts early and the stream crosses from one book into the next.
    func testChunkedEqualsTokenByTokenForEveryPolicy() throws {
        let data = try TestPaths.fixture("multidoc")
        // The last number is a regression bound, about 5x the max |dNLL| measured on 2026-12-02
        // (`swift test -c release -Xswiftc -enable-testing --filter StreamingPolicyTests`): 4.4e-5, 3.5e-5, 7.9e-5,
        // 3.4e-5, 2.6e-5 and 6.7e-5 in this order.
        let cases: [(String, PositionMode, Double)] = [("dense", .cache, 2.5e-4), ("4+60", .cache, 2e-4), ("0+64", .cache, 4e-4),
                                                       ("4\"\\n\"+60", .cache, 2e-4), ("recompute:64/16", .cache, 1.5e-4),
                                                       ("2+30", .original, 4e-4)]
        for (config, positions, bound) in cases {
            let chunked = try SmolLM2.evaluate(config, data: data, predictions: 640, positions: positions)
            let exact = try SmolLM2.evaluate(config, data: data, predictions: 640, exact: true, positions: positions)
            XCTAssertEqual(chunked.map(\.token), exact.map(\.token), config)
            let worst = zip(chunked, exact).map { abs($0.nll - $1.nll) }.max() ?? .infinity
            print("\(config) \(positions): max |dNLL| chunked vs token-by-token \(worst) over \(chunked.count) predictions")
            XCTAssertLessThanOrEqual(worst, 2e-3, "\(config): METHOD.md §3's bar")
            XCTAssertLessThanOrEqual(worst, bound, "\(config): regression bound, 5x what was measured")
        }
    }

    func testNewlineSinksScoreTheSameTargetsAsPlainSinks() throws {
        let data = try TestPaths.fixture("multidoc")
        let plain = try SmolLM2.evaluate("4+60", data: data, predictions: 700)
        let newline = try SmolLM2.evaluate("4\"\\n\"+60", data: data, predictions: 700)
        XCTAssertEqual(plain.map { [$0.document, $0.position, Int($0.token)] }, newline.map { [$0.document, $0.position, Int($0.token)] })
        XCTAssertNotEqual(plain.map(\.nll), newline.map(\.nll), "the sinks differ, so the numbers do")
    }

    func testSinkStringOfSeveralTokensIsRejected() throws {
        XCTAssertThrowsError(try SmolLM2.evaluate("4\"ab cd\"+10", data: TestPaths.fixture("hamlet_gut.txt"), predictions: 1)) { error in
            XCTAssertTrue("\(error)".contains("exactly one token"), "\(error)")
            XCTAssertTrue("\(error)".contains("4\"ab cd\"+10"), "\(error)")
        }
    }
}
