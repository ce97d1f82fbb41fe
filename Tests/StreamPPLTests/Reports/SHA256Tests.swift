import Foundation
import XCTest
@testable import StreamPPL

/// The project's own SHA-256 (run.json's model and data hashes) against the FIPS 180-4 example vectors
/// (NIST, "SHA256.pdf" and the one-million-'a' vector of FIPS 180-2 Appendix B), the lengths where the padding
/// spills into another block, and streaming input cut at odd sizes.
final class SHA256Tests: TemporaryFilesTestCase {
    func testFIPS180ExampleVectors() {
        let vectors: [(String, String)] = [
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            // 448 bits: the padding no longer fits the first block.
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            // 896 bits.
            ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
             "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        ]
        for (message, digest) in vectors {
            XCTAssertEqual(SHA256.hexDigest(of: Array(message.utf8)), digest, "\"\(message)\"")
        }
    }

    func testOneMillionAs() {
        XCTAssertEqual(SHA256.hexDigest(of: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Bytes (7i + 3) mod 256; the digests are `sha256sum`'s (coreutils 9, computed 2026-12-02).
    static func pattern(_ count: Int) -> [UInt8] { (0 ..< count).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) } }

    /// 55 bytes is the longest message whose padding and length fit its one block; 56 to 63 need a second
    /// block; 64 fills one exactly; 119/120 and 128 are the same edges one block on.
    func testLengthsAroundBlockBoundaries() {
        let digests: [Int: String] = [
            55: "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b",
            56: "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27",
            63: "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055",
            64: "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241",
            65: "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e",
            119: "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e",
            120: "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5",
            128: "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6",
        ]
        for (length, digest) in digests.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(SHA256.hexDigest(of: Self.pattern(length)), digest, "\(length) bytes")
        }
    }

    /// Fed in pieces of odd sizes (smaller than, across and larger than a block), the digest is the one-shot one.
    func testStreamingInputEqualsOneShot() {
        let message = Self.pattern(1000)
        let oneShot = SHA256.hexDigest(of: message)
        for sizes in [[1], [3, 61], [7], [63, 1, 65], [127], [999, 1], [0, 5, 0, 200]] {
            var hasher = SHA256.Hasher()
            var start = 0, next = 0
            while start < message.count {
                let end = min(message.count, start + sizes[next % sizes.count])
                hasher.update(Data(message[start ..< end]))
                start = end
                next += 1
            }
            XCTAssertEqual(hasher.finalize(), oneShot, "pieces of \(sizes) bytes")
        }
    }

    /// The file path reads 1 MiB at a time: a file of 2.5 MiB plus 7 bytes crosses two read boundaries.
    func testFileDigestMatchesSha256sum() throws {
        let path = try keep(TemporaryFiles.write(Self.pattern(2_621_447), name: "pattern.bin"))
        XCTAssertEqual(try SHA256.hexDigest(ofFile: path), "b6af3dcb68976baca228688b1872819a502a22b70f800c481b3f298961b25e29")
    }

    func testMissingFileNamesThePath() {
        XCTAssertThrowsError(try SHA256.hexDigest(ofFile: "/nonexistent/model.gguf")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/model.gguf"), "\(error)")
        }
    }
}
