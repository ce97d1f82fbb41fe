extension Architecture {
    /// Gemma-3: the embedding scaled by √dim; RMSNorm on each query and key head before rotary (halves); norms
    /// after attention and after the feed-forward too, before each residual add; GELU-gated feed-forward; local
    /// layers that see only the keys within `attention.sliding_window` positions of the query, with their own rotary
    /// base (`rope.freq_base_swa`, 10,000 when absent), interleaved with global layers: layer i is local unless
    /// i % pattern == pattern - 1 (`attention.sliding_window_pattern`, 6 when absent, as llama.cpp). Attention scales by
    /// 1/√head size (key_length), which is Gemma's query_pre_attn_scalar for every size but 27B.
    static let gemma3 = Architecture(
        name: "gemma3", rotaryPairing: .halves,
        block: BlockOptions(queryKeyNorm: true, postNorms: true, feedForward: .geGLU, scalesEmbedding: true),
        readExtraKeys: { gguf, config throws(ModelError) in
            let keys = ModelKeys(gguf)
            let size = try keys.require("gemma3.attention.sliding_window", keys.positiveInteger)
            let local = try localLayers(keys, layerCount: config.layerCount)
            let base = try keys.number("gemma3.rope.freq_base_swa", expected: "a finite number above 1") { $0 > 1 } ?? 10_000
            config.slidingWindow = SlidingWindow(size: size, localLayers: local, ropeBase: Double(base))
            config.logitSoftCap = try keys.numberOrOff("gemma3.final_logit_softcapping")
        })
}

/// Gemma-3's `attention.sliding_window_pattern`: one flag per layer, or a period n whose last layer is global.
private func localLayers(_ keys: ModelKeys, layerCount: Int) throws(ModelError) -> [Bool] {
    let key = "gemma3.attention.sliding_window_pattern"
    guard let value = keys.gguf.metadata[key] else { return (0 ..< layerCount).map { $0 % 6 < 5 } }
    if let flags = value.arrayValue?.compactMap(\.boolValue), flags.count == layerCount { return flags }
    if let pattern = value.intValue, pattern > 0 { return (0 ..< layerCount).map { $0 % pattern < pattern - 1 } }
    throw keys.invalid(key, value, expected: "a positive integer or one flag per layer")
}
