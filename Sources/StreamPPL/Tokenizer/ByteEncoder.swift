/// GPT-2's reversible map between bytes and printable characters.
///
/// Byte-level BPE vocabularies store every token as text in which each byte of the original UTF-8 is
/// replaced by one visible character, so that no token contains a space, a control character or a
/// fragment of a multi-byte sequence. Printable Latin-1 bytes ('!'...'~', '¡'...'¬', '®'...'ÿ') stand
/// for themselves; the other 68 bytes are given U+0100, U+0101, ... in byte order (so ' ' is 'Ġ' and
/// '\n' is 'Ċ').
enum ByteLevelEncoding {
    /// The character (Unicode scalar value) that stands for each byte.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0 ..< 256 {
            let standsForItself = (0x21 ... 0x7E).contains(byte) || (0xA1 ... 0xAC).contains(byte) || (0xAE ... 0xFF).contains(byte)
            if standsForItself {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The UTF-8 of the character that stands for each byte (1 or 2 bytes long).
    static let encodedUTF8ForByte: [[UInt8]] = scalarForByte.map { value in
        Array(String(Character(Unicode.Scalar(value) ?? "?")).utf8)
    }

    /// Inverse of `scalarForByte`, indexed by scalar value (all of them are below 0x144).
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x200)
        for byte in 0 ..< 256 { table[Int(scalarForByte[byte])] = Int16(byte) }
        return table
    }()

    /// Appends the byte-level encoding of `bytes` (the text form the vocabulary uses).
    static func encode(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        for byte in bytes { output.append(contentsOf: encodedUTF8ForByte[Int(byte)]) }
    }

    /// Appends the original bytes of a vocabulary token's text. A character outside the map (which a
    /// well-formed byte-level vocabulary never contains) is kept as its own UTF-8.
    static func decode(_ tokenText: String, into output: inout [UInt8]) {
        for scalar in tokenText.unicodeScalars {
            let value = Int(scalar.value)
            if value < byteForScalar.count, byteForScalar[value] >= 0 {
                output.append(UInt8(byteForScalar[value]))
            } else {
                output.append(contentsOf: String(Character(scalar)).utf8)
            }
        }
    }
}
