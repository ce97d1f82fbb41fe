import StreamPPL

/// The text every vocabulary that parses is asked to tokenize: ASCII, multi-byte UTF-8, digits, spaces and
/// newlines, and the special-token spellings the real vocabularies use.
private let sampleText = "Hello, world! It's 2024 — naïve café 日本語 🤖\n\n  indented\ttab <s></s><|endoftext|><|im_start|>"

/// One input: the bytes as a GGUF file, then what is built from its metadata when it parses (model config,
/// tokenizer, a tokenize/decode round), and a touch of each tensor's first and last byte so that a table entry
/// pointing outside the bytes is caught by AddressSanitizer. Errors thrown are the expected outcome for most
/// inputs; only a crash, a trap or a sanitizer report is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    guard let gguf = try? GGUFFile(bytes: bytes, name: "fuzz-input.gguf") else { return 0 }
    var checksum: UInt8 = 0
    for tensor in gguf.tensors where tensor.byteCount > 0 {
        let data = gguf.data(of: tensor)
        checksum ^= data.load(as: UInt8.self) ^ data.load(fromByteOffset: tensor.byteCount - 1, as: UInt8.self)
    }
    _ = try? ModelConfig(gguf: gguf)
    if let tokenizer = try? Tokenizer(gguf: gguf) {
        let ids = tokenizer.encodeDocument(sampleText)
        checksum ^= UInt8(truncatingIfNeeded: tokenizer.decode(ids).utf8.count)
    }
    blackHole(checksum)
    return 0
}

/// Keeps the optimizer from dropping the reads above.
@inline(never)
private func blackHole(_ value: UInt8) {
    withExtendedLifetime(value) {}
}
