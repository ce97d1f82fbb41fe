import Foundation
import StreamPPL

/// One input: the first byte picks the reader, the rest is the file's text.
///   byte % 3 == 0: a run configuration file in TOML (`streamppl run --config x.toml`)
///   byte % 3 == 1: a run configuration file in JSON
///   byte % 3 == 2: an experiment file (`experiments/NAME.json`, `streamppl reproduce`)
/// Errors thrown are the expected outcome for most inputs; only a crash, a trap or a sanitizer report is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSettings(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    guard let selector = input.first else { return 0 }
    let text = Data(input.dropFirst())
    switch selector % 3 {
    case 0: readRunConfiguration(text, fileExtension: "toml")
    case 1: readRunConfiguration(text, fileExtension: "json")
    default: readExperiment(text)
    }
    return 0
}

/// The settings readers take a path today, so each input goes through one scratch file, rewritten per input.
/// When a bytes entry point exists, `write` and the two readers below are all that changes. The folder is in
/// /dev/shm where there is one: on a disk, the writes (not the parsing) set the pace.
private let scratch: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
    let path = base + "streamppl-fuzz-settings-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: scratch) }
    return path
}()

private func write(_ text: Data, name: String) -> String? {
    let path = scratch + "/" + name
    do { try text.write(to: URL(fileURLWithPath: path)) } catch { return nil }
    return path
}

/// What `streamppl run --config` does with the file, short of opening the model: every key read with its
/// type, then the settings validated (cache specs parsed, ranges checked).
private func readRunConfiguration(_ text: Data, fileExtension: String) {
    guard let path = write(text, name: "run." + fileExtension) else { return }
    guard let file = try? ConfigurationFile(path: path, allowedKeys: runKeys) else { return }
    var settings = RunSettings()
    do {
        if let value = try file.string("model") { settings.model = value }
        if let value = try file.strings("data") { settings.data = value }
        if let value = try file.strings("cache") { settings.caches = value }
        if let value = try file.integer("max-tokens") { settings.maxTokens = value }
        if let value = try file.integer("repeat") { settings.repeats = value }
        if let value = try file.bool("exact-token-by-token") { settings.exactTokenByToken = value }
        if let value = try file.integer("chunk-size") { settings.chunkSize = value }
        if let value = try file.string("positions") { settings.positions = value }
        if let value = try file.string("log-format") { settings.logFormat = value }
        _ = try file.integer("checkpoint-interval")
        _ = try file.bool("resume")
        _ = try file.string("out")
        if let value = try file.string("shard") { _ = try Shard(value) }
        try settings.validate()
        _ = settings.jobs
    } catch {}
}

/// The keys `streamppl run --config` accepts (RunCommand.configurationKeys; the CLI module cannot be imported).
private let runKeys: Set<String> = ["model", "data", "cache", "max-tokens", "repeat", "out", "exact-token-by-token", "chunk-size",
                                    "positions", "log-format", "resume", "shard", "checkpoint-interval"]

private func readExperiment(_ text: Data) {
    guard write(text, name: "fuzz.json") != nil else { return }
    guard let experiment = try? Experiment.load("fuzz", from: scratch) else { return }
    _ = experiment.settings(model: RunSettings.defaultModel).jobs
}
