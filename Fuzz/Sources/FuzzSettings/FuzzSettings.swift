import StreamPPL

/// One input: the first byte picks the reader, the rest is the file's bytes.
///   byte % 3 == 0: a run configuration file in TOML (`streamppl run --config x.toml`)
///   byte % 3 == 1: a run configuration file in JSON
///   byte % 3 == 2: an experiment file (`experiments/NAME.json`, `streamppl reproduce`)
/// Both go through the same entry points the CLI uses (`RunRequest.decode`, `Experiment.decode`): every key read with
/// its type, cache configs parsed, ranges checked. Errors thrown are the expected outcome for most inputs; only a crash,
/// a trap or a sanitizer report is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSettings(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: start, count: count)
    guard let selector = input.first else { return 0 }
    let bytes = [UInt8](input.dropFirst())
    switch selector % 3 {
    case 0: _ = (try? RunRequest.decode(bytes: bytes, format: .toml, path: "fuzz.toml"))?.settings.jobs
    case 1: _ = (try? RunRequest.decode(bytes: bytes, format: .json, path: "fuzz.json"))?.settings.jobs
    default: _ = (try? Experiment.decode(bytes: bytes, name: "fuzz", path: "fuzz.json"))?.settings(model: RunSettings.defaultModel).jobs
    }
    return 0
}
