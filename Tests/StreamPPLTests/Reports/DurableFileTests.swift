import CZlib
import Foundation
import XCTest
@testable import StreamPPL

/// `DurableFile`, the one way results, checkpoints and manifests are written: a name shows either the old content
/// or all of the new, never a half-written file, and nothing temporary is left behind.
final class DurableFileTests: TemporaryFilesTestCase {
    func folder() throws -> String { keep(try TemporaryFiles.directory()) }

    func contents(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    func leftovers(in folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".tmp") }
    }

    func testAWholeFileReplacesTheOldOneAndLeavesNoTemporaryFile() throws {
        let folder = try folder(), path = folder + "/summary.csv"
        try DurableFile.write("old\n", to: path)
        try DurableFile.write("new\n", to: path)
        XCTAssertEqual(try contents(path), "new\n")
        XCTAssertEqual(try leftovers(in: folder), [])
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        XCTAssertEqual(permissions, 0o644, "readable by others, like any result file")
    }

    func testAStreamedFileAppearsUnderItsNameOnlyOnCommit() throws {
        let folder = try folder(), path = folder + "/nll.csv"
        let writer = try DurableFile.Writer(path: path)
        try writer.append(Array("config,doc\n".utf8))
        try writer.append(Array("4+8,0\n".utf8))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing under the name before commit")
        XCTAssertTrue(writer.temporaryPath.hasPrefix(path + ".tmp-"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: writer.temporaryPath))
        try writer.commit()
        XCTAssertEqual(try contents(path), "config,doc\n4+8,0\n")
        XCTAssertEqual(try leftovers(in: folder), [])
        XCTAssertThrowsError(try writer.append(Array("late".utf8)), "a committed file takes no more bytes")
    }

    func testADiscardedOrDroppedWriterKeepsTheOldContent() throws {
        let folder = try folder(), path = folder + "/summary.md"
        try DurableFile.write("old", to: path)
        let discarded = try DurableFile.Writer(path: path)
        try discarded.append(Array("new".utf8))
        discarded.discard()
        do {
            let dropped = try DurableFile.Writer(path: path)
            try dropped.append(Array("newer".utf8))
        }
        XCTAssertEqual(try contents(path), "old")
        XCTAssertEqual(try leftovers(in: folder), [])
    }

    func testABlockWriteThatFailsHalfWayLeavesNothing() throws {
        let folder = try folder(), path = folder + "/checkpoint"
        struct Interrupted: Error {}
        XCTAssertThrowsError(try DurableFile.write(to: path) { append in
            try Array("half".utf8).withUnsafeBytes(append)
            throw Interrupted()
        })
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try leftovers(in: folder), [])
    }

    func testAGzipFileReadsBackAndTheSamePiecesGiveTheSameBytes() throws {
        let folder = try folder()
        let pieces = [Array("config,doc,position,token,nll\n".utf8), Array(String(repeating: "4+8,0,1,42,2.5\n", count: 5000).utf8)]
        for name in ["a.csv.gz", "b.csv.gz"] {
            let writer = try DurableFile.Writer(path: folder + "/" + name, encoding: .gzip(level: 6))
            for piece in pieces { try writer.append(piece) }
            try writer.commit()
        }
        XCTAssertEqual(try Dataset.readBytes(folder + "/a.csv.gz"), pieces.flatMap { $0 })
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/a.csv.gz")), try Data(contentsOf: URL(fileURLWithPath: folder + "/b.csv.gz")))
        // The bytes of the per-token logs written before the writer existed (gzopen on the path itself, level 6).
        let direct = gzopen(folder + "/direct.csv.gz", "wb6")
        for piece in pieces { _ = piece.withUnsafeBytes { gzwrite(direct, $0.baseAddress, UInt32($0.count)) } }
        gzclose(direct)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: folder + "/a.csv.gz")), try Data(contentsOf: URL(fileURLWithPath: folder + "/direct.csv.gz")))
        XCTAssertEqual(try leftovers(in: folder), [])
    }

    func testAFolderThatIsNotThereNamesTheFile() throws {
        let path = try folder() + "/missing/summary.csv"
        XCTAssertThrowsError(try DurableFile.write("x", to: path)) {
            XCTAssertEqual(($0 as? ReportError)?.path, path)
        }
    }
}
