import Foundation
import XCTest
@testable import StreamPPL
@testable import StreamPPLKernels

/// The `streamppl` executable on bad input: a non-zero exit, exactly one line on stderr naming the file or
/// value at fault, and no result files when the failure comes before evaluation.
final class BadInputTests: CLITestCase {
    func testInspectValidTinyLlamaSucceeds() throws {
        let model = try tinyLlama()
        let outcome = try run(["inspect", model])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        XCTAssertTrue(outcome.stdout.contains("architecture: llama"), outcome.stdout)
    }

    func testInspectWrongMagic() throws {
        var bytes = Self.tinyLlamaBytes()
        bytes.replaceSubrange(0 ..< 4, with: Array("GGML".utf8))
        let path = try keep(TemporaryFiles.write(bytes, name: "wrong magic.gguf"))
        assertOneLineFailure(try run(["inspect", path]), mentions: [path, "GGML"], "wrong magic")
    }

    func testInspectTruncatedHeader() throws {
        let bytes = Self.tinyLlamaBytes()
        for cut in [2, 10, 100, 1000] {
            let path = try keep(TemporaryFiles.write(Array(bytes[..<cut]), name: "cut\(cut).gguf"))
            assertOneLineFailure(try run(["inspect", path]), mentions: [path, "truncated"], "header cut at \(cut)")
        }
    }

    func testInspectTruncatedTensorData() throws {
        let bytes = Self.tinyLlamaBytes()
        let path = try keep(TemporaryFiles.write(Array(bytes[..<(bytes.count - 10)]), name: "short.gguf"))
        assertOneLineFailure(try run(["inspect", path]), mentions: [path, "output_norm.weight"], "truncated tensor data")
    }

    func testInspectTensorOffsetPastTheEnd() throws {
        var bytes = Self.tinyLlamaBytes()
        let (_, offsetAt) = GGUFFileTests.tensorInfo("output_norm.weight", dimensionCount: 1, in: bytes)
        GGUFFileTests.patch(&bytes, at: offsetAt, UInt64(bytes.count / 32 * 32))
        let path = try keep(TemporaryFiles.write(bytes, name: "offset.gguf"))
        assertOneLineFailure(try run(["inspect", path]), mentions: [path, "output_norm.weight"], "offset past the end")

        GGUFFileTests.patch(&bytes, at: offsetAt, UInt64.max)
        let hugePath = try keep(TemporaryFiles.write(bytes, name: "huge-offset.gguf"))
        assertOneLineFailure(try run(["inspect", hugePath]), mentions: [hugePath, "output_norm.weight"], "offset UInt64.max")
    }

    func testInspectUnknownTensorType() throws {
        for typeID: UInt32 in [99, 10] {
            var bytes = Self.tinyLlamaBytes()
            let (typeAt, _) = GGUFFileTests.tensorInfo("output_norm.weight", dimensionCount: 1, in: bytes)
            GGUFFileTests.patch(&bytes, at: typeAt, typeID)
            let path = try keep(TemporaryFiles.write(bytes, name: "type\(typeID).gguf"))
            assertOneLineFailure(try run(["inspect", path]), mentions: [path, "output_norm.weight", "\(typeID)"], "tensor type \(typeID)")
        }
    }

    /// A tensor so large that its end does not fit in an Int: must be reported, not trap on overflow.
    func testInspectTensorWhoseEndOverflows() throws {
        var writer = TinyLlama.writer()
        // 2 x (2^30 - 1) x (2^30 + 1) F32 elements = 2^63 - 8 bytes: the byte count fits in an Int, start + bytes does not.
        writer.addTensor("enormous", dimensions: [2, (1 << 30) - 1, (1 << 30) + 1], type: TensorType.f32.rawValue, data: [])
        let path = try keep(writer.write(name: "enormous.gguf"))
        assertOneLineFailure(try run(["inspect", path]), mentions: [path, "enormous"], "tensor end overflows")
    }

    func testInspectUnsupportedArchitecture() throws {
        let path = try keep(TinyLlama.writer(architecture: "mamba").write(name: "mamba.gguf"))
        assertOneLineFailure(try run(["inspect", path]), mentions: [path, "mamba"], "architecture mamba")
    }

    func testInspectMissingMetadataKey() throws {
        for key in ["llama.embedding_length", "general.architecture", "llama.attention.layer_norm_rms_epsilon"] {
            let path = try keep(Self.removing(key, from: TinyLlama.writer()).write(name: "no-\(key).gguf"))
            assertOneLineFailure(try run(["inspect", path]), mentions: [path, key], "missing \(key)")
        }
    }

    func testInspectMissingFileAndFolder() throws {
        let folder = try keep(TemporaryFiles.directory())
        assertOneLineFailure(try run(["inspect", folder + "/absent.gguf"]), mentions: [folder + "/absent.gguf"], "missing model")
        assertOneLineFailure(try run(["inspect", folder]), mentions: [folder], "folder as model")
    }

    // MARK: run

    func testRunBadCacheConfig() throws {
        let model = try tinyLlama()
        let data = try goodData()
        for cache in ["4+", "+8", "-1+5", "recompute:0", "dense+4", "h2o:0+0", "h2o:8", "tova:0", "tova:-1", "h2o:32+32x"] {
            let out = try outFolder()
            let outcome = try run(["run", "--model", model, "--data", data, "--cache=\(cache)", "--out", out])
            assertOneLineFailure(outcome, mentions: [cache], "--cache \(cache)")
            assertNoResults(in: out, "--cache \(cache)")
        }
    }

    /// The same as a separate argument: `--cache -1+5` must not be taken for an option.
    func testRunBadCacheConfigAsSeparateArgument() throws {
        let model = try tinyLlama()
        let data = try goodData()
        for cache in ["+8", "4+", "-1+5"] {
            let out = try outFolder()
            let outcome = try run(["run", "--model", model, "--data", data, "--cache", cache, "--out", out])
            assertOneLineFailure(outcome, mentions: [cache], "--cache \(cache)")
            assertNoResults(in: out, "--cache \(cache)")
        }
    }

    func testRunMissingData() throws {
        let model = try tinyLlama()
        let missing = try keep(TemporaryFiles.directory() + "/no such books")
        let out = try outFolder()
        assertOneLineFailure(try run(["run", "--model", model, "--data", missing, "--cache", "4+12", "--out", out]),
                             mentions: [missing], "missing data")
        assertNoResults(in: out, "missing data")
    }

    func testRunEmptyFolder() throws {
        let model = try tinyLlama()
        let empty = try keep(TemporaryFiles.directory())
        let out = try outFolder()
        assertOneLineFailure(try run(["run", "--model", model, "--data", empty, "--cache", "4+12", "--out", out]),
                             mentions: [empty], "empty folder")
        assertNoResults(in: out, "empty folder")
    }

    func testRunFolderWithoutTextFiles() throws {
        let model = try tinyLlama()
        let folder = try keep(TemporaryFiles.directory())
        for name in ["notes.md", "book.TXT", "book.txt.bak", "data.json"] {
            try Data("hello\n".utf8).write(to: URL(fileURLWithPath: folder + "/" + name))
        }
        let out = try outFolder()
        assertOneLineFailure(try run(["run", "--model", model, "--data", folder, "--cache", "4+12", "--out", out]),
                             mentions: [folder], "no .txt files")
        assertNoResults(in: out, "no .txt files")
    }

    func testRunNonUTF8Text() throws {
        let model = try tinyLlama()
        let path = try keep(TemporaryFiles.write([0x68, 0x69, 0x20, 0xFF, 0xFE, 0x00, 0x41, 0x0A], name: "latin.txt"))
        let out = try outFolder()
        let outcome = try run(["run", "--model", model, "--data", path, "--cache", "4+12", "--out", out])
        assertOneLineFailure(outcome, mentions: [path, "UTF-8"], "non-UTF-8 data")
        // The failure is found when the first document is read, inside the evaluation: at least no summary.
        for name in ["summary.csv", "run.json"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/" + name), "\(name) written after a failed run")
        }
    }

    func testRunBadModel() throws {
        let data = try goodData()
        var bytes = Self.tinyLlamaBytes()
        bytes.replaceSubrange(0 ..< 4, with: Array("GGML".utf8))
        let model = try keep(TemporaryFiles.write(bytes, name: "bad.gguf"))
        let out = try outFolder()
        assertOneLineFailure(try run(["run", "--model", model, "--data", data, "--cache", "4+12", "--out", out]),
                             mentions: [model], "bad model")
        assertNoResults(in: out, "bad model")
    }

    // MARK: tokenize

    func testTokenizeNonUTF8Text() throws {
        let model = try tinyLlama()
        let path = try keep(TemporaryFiles.write([0x61, 0x62, 0xFF, 0xFE, 0x63], name: "bad.txt"))
        let outcome = try run(["tokenize", "--model", model, "--text", path])
        assertOneLineFailure(outcome, mentions: [path, "UTF-8"], "tokenize non-UTF-8")
        XCTAssertEqual(outcome.stdout, "", "no ids are printed for a bad file")
    }

    func testTokenizeTinyLlamaWorks() throws {
        let model = try tinyLlama()
        let path = try keep(TemporaryFiles.write(Array("Hi!".utf8), name: "ok.txt"))
        let outcome = try run(["tokenize", "--model", model, "--text", path])
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        // Byte-level vocabulary, no merges, no BOS: one id per byte.
        XCTAssertEqual(outcome.stdout.split(separator: "\n").count, 3, outcome.stdout)
    }
}
