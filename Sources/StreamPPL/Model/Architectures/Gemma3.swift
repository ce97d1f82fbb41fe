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
            let path = gguf.path
            let windowKey = "gemma3.attention.sliding_window"
            guard let size = gguf.metadata[windowKey]?.intValue else { throw .missingKey(path: path, key: windowKey) }
            guard size > 0 else { throw .invalidValue(path: path, key: windowKey, value: String(size), expected: "a positive integer") }
            let patternKey = "gemma3.attention.sliding_window_pattern"
            let local: [Bool]
            if let value = gguf.metadata[patternKey] {
                if let flags = value.arrayValue?.compactMap(\.boolValue), flags.count == config.layerCount {
                    local = flags
                } else if let pattern = value.intValue, pattern > 0 {
                    local = (0 ..< config.layerCount).map { $0 % pattern < pattern - 1 }
                } else {
                    throw .invalidValue(path: path, key: patternKey, value: value.summary,
                                        expected: "a positive integer or one flag per layer")
                }
            } else {
                local = (0 ..< config.layerCount).map { $0 % 6 < 5 }
            }
            let baseKey = "gemma3.rope.freq_base_swa"
            var base = 10_000.0
            if let value = gguf.metadata[baseKey] {
                guard let number = value.floatValue, number.isFinite, number > 1 else {
                    throw .invalidValue(path: path, key: baseKey, value: value.summary, expected: "a finite number above 1")
                }
                base = Double(number)
            }
            config.slidingWindow = SlidingWindow(size: size, localLayers: local, ropeBase: base)
            let capKey = "gemma3.final_logit_softcapping"
            if let value = gguf.metadata[capKey] {
                guard let cap = value.floatValue, cap.isFinite, cap >= 0 else {
                    throw .invalidValue(path: path, key: capKey, value: value.summary, expected: "a finite number, 0 or more")
                }
                config.logitSoftCap = cap > 0 ? cap : nil
            }
        })
}
