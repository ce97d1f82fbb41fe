import Foundation
import XCTest
@testable import StreamPPL

/// Runs the built `streamppl` executable as a subprocess, with temporary folders removed after each test.
class CLITestCase: TemporaryFilesTestCase {
    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The built executable: in the products folder next to the test bundle (`.build/<config>/streamppl`).
    static let executable: String? = {
        var candidates: [URL] = []
        let bundle = Bundle(for: CLITestCase.self).bundleURL
        candidates.append(bundle.deletingLastPathComponent().appendingPathComponent("streamppl"))
        // On Linux the test binary is `<products>/streamppl-packageTests.xctest`; on macOS the bundle's
        // executable sits deeper, in Contents/MacOS.
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("streamppl"))
        let argument0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        candidates.append(argument0.deletingLastPathComponent().appendingPathComponent("streamppl"))
        var url = bundle
        for _ in 0 ..< 4 {
            url.deleteLastPathComponent()
            candidates.append(url.appendingPathComponent("streamppl"))
        }
        return candidates.map(\.path).first { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && FileManager.default.isExecutableFile(atPath: path)
        }
    }()

    func run(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Outcome {
        guard let executable = Self.executable else {
            XCTFail("the streamppl executable was not found next to the test bundle \(Bundle(for: CLITestCase.self).bundleURL.path); "
                + "build it with swift build", file: file, line: line)
            throw XCTSkip("no executable")
        }
        let folder = try keep(TemporaryFiles.directory())
        let stdoutPath = folder + "/stdout", stderrPath = folder + "/stderr"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardInput = FileHandle.nullDevice
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Outcome(status: process.terminationStatus,
                       stdout: String(decoding: try Data(contentsOf: URL(fileURLWithPath: stdoutPath)), as: UTF8.self),
                       stderr: String(decoding: try Data(contentsOf: URL(fileURLWithPath: stderrPath)), as: UTF8.self))
    }

    /// A non-zero exit, by `exit` and not by a signal or trap, with one non-empty stderr line that mentions each of `mentions`.
    func assertOneLineFailure(_ outcome: Outcome, mentions: [String], _ what: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(outcome.status, 0, "\(what): exit status", file: file, line: line)
        XCTAssertFalse(outcome.stderr.contains("Fatal error"), "\(what): crashed: \(outcome.stderr)", file: file, line: line)
        var message = outcome.stderr
        if message.hasSuffix("\n") { message.removeLast() }
        XCTAssertFalse(message.trimmingCharacters(in: .whitespaces).isEmpty, "\(what): stderr is empty", file: file, line: line)
        XCTAssertFalse(message.contains("\n"), "\(what): stderr is not one line:\n\(outcome.stderr)", file: file, line: line)
        for mention in mentions {
            XCTAssertTrue(message.contains(mention), "\(what): stderr does not mention \(mention): \(message)", file: file, line: line)
        }
    }

    func assertNoResults(in out: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        for name in ["summary.csv", "summary.md", "run.json", "nll.csv.gz", "nll.csv"] {
            let path = (out as NSString).appendingPathComponent(name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), "\(what): \(path) was written", file: file, line: line)
        }
    }

    // MARK: Fixtures

    static func tinyLlamaBytes() -> [UInt8] { TinyLlama.writer().bytes() }

    func tinyLlama() throws -> String { try keep(TinyLlama.writer().write(name: "tiny.gguf")) }

    /// A copy of `writer` without the metadata key `key`.
    static func removing(_ key: String, from writer: GGUFWriter) -> GGUFWriter {
        var copy = GGUFWriter()
        copy.version = writer.version
        copy.alignment = writer.alignment
        for (name, value) in writer.metadata where name != key { copy.set(name, value) }
        for tensor in writer.tensors { copy.addTensor(tensor.name, dimensions: tensor.dimensions, type: tensor.type, data: tensor.data) }
        return copy
    }

    /// A folder holding one small, valid book.
    func goodData() throws -> String {
        let folder = try keep(TemporaryFiles.directory())
        try Data("It was the best of times, it was the worst of times.\n".utf8)
            .write(to: URL(fileURLWithPath: folder + "/book.txt"))
        return folder
    }

    func outFolder() throws -> String { try keep(TemporaryFiles.directory() + "/out") }

    // MARK: inspect
}
