import StreamPPLKernels

/// Where one tensor's data lies in a GGUF file. `dimensions` is ggml's `ne`: the fastest-varying first,
/// so a weight matrix of `rows x columns` is stored as `[columns, rows]`.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let dimensions: [Int]
    public let type: TensorType
    /// Absolute byte offset in the file.
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { dimensions.reduce(1, *) }
}

/// A parsed GGUF file (versions 2 and 3): metadata, the tensor table and the memory-mapped tensor data.
/// Layout: magic "GGUF", version, tensor count, metadata count, metadata key/values, tensor infos,
/// padding to `general.alignment`, tensor data.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let fileSize: Int
    private let tensorsByName: [String: GGUFTensorInfo]
    private let file: MappedFile

    public convenience init(path: String) throws(GGUFError) {
        try self.init(file: MappedFile(path: path), path: path)
    }

    /// Parses a copy of `bytes` held in memory; `name` stands for the path in messages. The fuzz targets
    /// (Fuzz/) use this so each input is parsed by the same code as a file, without a file.
    public convenience init(bytes: UnsafeRawBufferPointer, name: String) throws(GGUFError) {
        try self.init(file: MappedFile(copying: bytes), path: name)
    }

    private init(file: MappedFile, path: String) throws(GGUFError) {
        self.path = path
        self.file = file
        fileSize = file.bytes.count
        var cursor = ByteCursor(bytes: file.bytes, path: path)

        let magic = try cursor.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else { throw .badMagic(path: path, found: Self.quote(magic: magic)) }
        version = try cursor.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(path: path, version: version) }
        // Each tensor info takes at least 8 (name length) + 4 + 4 + 8 bytes; each key/value at least 8 + 4 + 1.
        let tensorCount = try cursor.readCount("tensor count", minimumBytesEach: 24)
        let keyCount = try cursor.readCount("metadata count", minimumBytesEach: 13)

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        for _ in 0 ..< keyCount {
            let key = try cursor.readString("metadata key")
            let type = try cursor.read(UInt32.self, "type of '\(key)'")
            let value = try Self.readValue(type: type, key: key, from: &cursor)
            guard metadata.updateValue(value, forKey: key) == nil else { throw .duplicateName(path: path, kind: "metadata key", name: key) }
            keys.append(key)
        }
        self.metadata = metadata
        metadataKeys = keys

        var infos: [(name: String, dimensions: [Int], type: TensorType, relativeOffset: Int)] = []
        for index in 0 ..< tensorCount {
            let name = try cursor.readString("name of tensor \(index)")
            let dimensionCount = try cursor.read(UInt32.self, "dimension count of '\(name)'")
            guard (1 ... 4).contains(dimensionCount) else {
                throw .badTensorShape(path: path, tensor: name, detail: "\(dimensionCount) dimensions, expected 1 to 4")
            }
            var dimensions: [Int] = []
            for _ in 0 ..< dimensionCount {
                let size = try cursor.read(UInt64.self, "dimensions of '\(name)'")
                guard size > 0, size < 1 << 40 else {
                    throw .badTensorShape(path: path, tensor: name, detail: "dimension \(size) is out of range")
                }
                dimensions.append(Int(size))
            }
            let typeID = try cursor.read(UInt32.self, "type of '\(name)'")
            guard let type = TensorType(rawValue: typeID) else {
                throw .unknownTensorType(path: path, tensor: name, type: typeID)
            }
            guard dimensions[0] % type.blockElements == 0 else {
                throw .badTensorShape(path: path, tensor: name,
                                      detail: "row length \(dimensions[0]) is not a multiple of the \(type.name) block size \(type.blockElements)")
            }
            let offset = try cursor.read(UInt64.self, "data offset of '\(name)'")
            guard offset < UInt64(fileSize) else {
                throw .tensorOffsetOutOfBounds(path: path, tensor: name, offset: offset, fileSize: fileSize)
            }
            infos.append((name, dimensions, type, Int(offset)))
        }

        let alignment = metadata["general.alignment"]?.intValue ?? 32
        guard alignment > 0, alignment & (alignment - 1) == 0 else { throw .invalidAlignment(path: path, alignment: alignment) }
        cursor.align(to: alignment)
        let dataStart = cursor.offset

        var tensors: [GGUFTensorInfo] = []
        var byName: [String: GGUFTensorInfo] = [:]
        for info in infos {
            let elements = info.dimensions.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
            guard let bytes = info.type.byteCount(elements: elements) else {
                throw .badTensorShape(path: path, tensor: info.name, detail: "\(elements) elements do not fit in memory")
            }
            guard info.relativeOffset % alignment == 0 else {
                throw .badTensorShape(path: path, tensor: info.name, detail: "data offset \(info.relativeOffset) is not aligned to \(alignment)")
            }
            let start = dataStart + info.relativeOffset
            guard start <= fileSize, bytes <= fileSize - start else {
                let (end, overflow) = start.addingReportingOverflow(bytes)
                throw .tensorOutOfBounds(path: path, tensor: info.name, end: overflow ? Int.max : end, fileSize: fileSize)
            }
            let tensor = GGUFTensorInfo(name: info.name, dimensions: info.dimensions, type: info.type, offset: start, byteCount: bytes)
            guard byName.updateValue(tensor, forKey: info.name) == nil else { throw .duplicateName(path: path, kind: "tensor", name: info.name) }
            tensors.append(tensor)
        }
        self.tensors = tensors
        tensorsByName = byName
    }

    public func tensor(named name: String) -> GGUFTensorInfo? { tensorsByName[name] }

    /// The tensor's bytes inside the memory map; valid while this file object lives.
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawPointer {
        // The initializer checked that offset + byteCount lies inside the mapped file.
        file.bytes.baseAddress.unsafelyUnwrapped + tensor.offset
    }

    // MARK: Typed metadata look-ups (nil when missing or of another type)

    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    public func float(_ key: String) -> Float? { metadata[key]?.floatValue }
    public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }
    public func stringArray(_ key: String) -> [String]? { compactArray(key, \.stringValue) }
    public func intArray(_ key: String) -> [Int]? { compactArray(key, \.intValue) }
    public func floatArray(_ key: String) -> [Float]? { compactArray(key, \.floatValue) }

    private func compactArray<T>(_ key: String, _ element: (GGUFValue) -> T?) -> [T]? {
        guard let items = metadata[key]?.arrayValue else { return nil }
        var result: [T] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard let value = element(item) else { return nil }
            result.append(value)
        }
        return result
    }

    // MARK: Parsing

    private static func readValue(type: UInt32, key: String, from cursor: inout ByteCursor) throws(GGUFError) -> GGUFValue {
        let what = "value of '\(key)'"
        switch type {
        case 0: return .uint8(try cursor.read(UInt8.self, what))
        case 1: return .int8(try cursor.read(Int8.self, what))
        case 2: return .uint16(try cursor.read(UInt16.self, what))
        case 3: return .int16(try cursor.read(Int16.self, what))
        case 4: return .uint32(try cursor.read(UInt32.self, what))
        case 5: return .int32(try cursor.read(Int32.self, what))
        case 6: return .float32(try cursor.readFloat(what))
        case 7: return .bool(try cursor.read(UInt8.self, what) != 0)
        case 8: return .string(try cursor.readString(what))
        case 9:
            let elementType = try cursor.read(UInt32.self, "element type of '\(key)'")
            guard elementType != 9 else { throw .nestedArray(path: cursor.path, key: key) }
            let count = try cursor.readCount("length of '\(key)'", minimumBytesEach: minimumBytes(ofType: elementType))
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for _ in 0 ..< count { items.append(try readValue(type: elementType, key: key, from: &cursor)) }
            return .array(items)
        case 10: return .uint64(try cursor.read(UInt64.self, what))
        case 11: return .int64(try cursor.read(Int64.self, what))
        case 12: return .float64(try cursor.readDouble(what))
        default: throw .invalidValueType(path: cursor.path, key: key, type: type)
        }
    }

    /// The fewest bytes a value of this type takes, so a corrupt array length fails before allocating.
    private static func minimumBytes(ofType type: UInt32) -> Int {
        switch type {
        case 0, 1, 7: 1
        case 2, 3: 2
        case 4, 5, 6: 4
        default: 8  // 64-bit values, and strings (their length field)
        }
    }

    private static func quote(magic: UInt32) -> String {
        let bytes = withUnsafeBytes(of: magic.littleEndian, Array.init)
        let printable = bytes.allSatisfy { (0x20 ..< 0x7F).contains($0) }
        return printable ? "'" + String(decoding: bytes, as: UTF8.self) + "'" : "0x" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
