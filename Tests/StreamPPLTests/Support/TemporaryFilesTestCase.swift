import Foundation
import XCTest

/// A test case whose `TemporaryFiles` folders are removed after each test.
class TemporaryFilesTestCase: XCTestCase {
    private var createdPaths: [String] = []

    /// Records a path inside a `TemporaryFiles` folder so that `tearDown` removes the folder.
    func keep(_ path: String) -> String {
        createdPaths.append(path)
        return path
    }

    override func tearDown() {
        for path in createdPaths {
            var url = URL(fileURLWithPath: path)
            while url.pathComponents.count > 1, !url.lastPathComponent.hasPrefix("streamppl-tests-") { url.deleteLastPathComponent() }
            if url.lastPathComponent.hasPrefix("streamppl-tests-") { try? FileManager.default.removeItem(at: url) }
        }
        createdPaths = []
        super.tearDown()
    }
}
