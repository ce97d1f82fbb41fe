import StreamPPLKernels

/// A decoder-only language model: feeds tokens through its layers, handing each layer's projections to the cache,
/// which stores keys and values and decides what every token attends to.
public protocol LanguageModel: AnyObject, Sendable {
    var config: ModelConfig { get }
    /// The memory-mapped file the weights point into.
    var file: GGUFFile { get }
    /// Feeds `tokens` (at most `state.capacity`) through every layer, then writes the logits after the tokens at
    /// `logitRows` into the first `logitRows.count` rows of `state.logits`.
    func forward(_ tokens: UnsafeBufferPointer<Int32>, cache: KVCache, state: ForwardState, logitRows: Range<Int>)
}

/// One GGUF architecture (`general.architecture`): how rotary pairs a head's values, which steps its decoder block
/// takes, the keys it reads beyond the common ones, and the tensors of it streamppl does not implement. Each lives in its own file under Architectures/.
public struct Architecture: Sendable {
    public let name: String
    public let rotaryPairing: RotaryEmbedding.Pairing
    public let block: BlockOptions
    /// Tensors llama.cpp would use for this architecture that streamppl does not implement (names after `blk.N.` for
    /// a layer's): a file with one is rejected rather than run without it.
    let unsupportedTensors: Set<String>
    /// Reads the architecture's own keys into the config (a missing or mistyped one is an error naming it).
    let readExtraKeys: @Sendable (GGUFFile, inout ModelConfig) throws(ModelError) -> Void

    init(name: String, rotaryPairing: RotaryEmbedding.Pairing, block: BlockOptions, unsupportedTensors: Set<String> = [],
         readExtraKeys: @escaping @Sendable (GGUFFile, inout ModelConfig) throws(ModelError) -> Void = { _, _ in }) {
        self.name = name
        self.rotaryPairing = rotaryPairing
        self.block = block
        self.unsupportedTensors = unsupportedTensors
        self.readExtraKeys = readExtraKeys
    }

    /// The first of `gguf`'s tensors this architecture does not implement.
    func unsupportedTensor(in gguf: GGUFFile) -> String? {
        gguf.tensors.first { tensor in
            let parts = tensor.name.split(separator: ".", maxSplits: 2)
            let layerName = parts.count == 3 && parts[0] == "blk" && Int(parts[1]) != nil ? String(parts[2]) : tensor.name
            return unsupportedTensors.contains(layerName)
        }?.name
    }
}

extension ModelConfig {
    /// For the architectures whose llama.cpp graph asserts that the rotary turns the whole head.
    mutating func requireFullRotary(_ gguf: GGUFFile) throws(ModelError) {
        guard ropeDimensions == headSize else {
            throw .invalidValue(path: gguf.path, key: "\(architecture).rope.dimension_count", value: String(ropeDimensions),
                                expected: "the head size \(headSize)")
        }
    }
}

/// The architectures streamppl can run, by `general.architecture`.
public enum ModelRegistry {
    public static let supported: [Architecture] = [.llama, .qwen2, .qwen3, .gemma3, .gptneox, .falcon, .mpt]
    public static var architectures: [String] { supported.map(\.name) }

    public static func architecture(named name: String) -> Architecture? {
        supported.first { $0.name == name }
    }

    /// The model in `gguf`: one line naming the key or tensor when the file lacks what its architecture needs.
    public static func load(_ gguf: GGUFFile) throws(ModelError) -> any LanguageModel {
        let config = try ModelConfig(gguf: gguf)
        if let tensor = architecture(named: config.architecture)?.unsupportedTensor(in: gguf) {
            throw .unsupportedTensor(path: gguf.path, tensor: tensor, architecture: config.architecture)
        }
        return DecoderModel(config: config, weights: try ModelWeights(gguf: gguf, config: config))
    }
}
