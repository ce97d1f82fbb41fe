/// Decoders for ggml's 256-element "k-quant" super-blocks (ggml-common.h `block_q4_K`,
/// `block_q5_K`, `block_q6_K`; ggml-quants.c `dequantize_row_q4_K` … `dequantize_row_q6_K`).
///
/// Q4_K and Q5_K split a super-block into 8 sub-blocks of 32 elements, each with a 6-bit scale and a
/// 6-bit min packed into 12 bytes, applied as `(d × scale) × code − (dmin × min)`. Q6_K splits it
/// into 16 sub-blocks of 16 elements, each with an Int8 scale, applied as `(d × scale) × code`.
/// The parenthesised products are rounded first, exactly as in ggml's reference loops.

/// Elements per k-quant super-block (ggml `QK_K`).
let kQuantBlockElements = 256

/// The 6-bit scale and min of sub-block `index` (0..<8) from the 12 packed bytes of Q4_K/Q5_K
/// (ggml `get_scale_min_k4`). Bytes 0–3 hold scales 0–3 in their low 6 bits, bytes 4–7 hold mins 0–3
/// likewise; sub-blocks 4–7 take their low 4 bits from bytes 8–11 (scale low nibble, min high
/// nibble) and their top 2 bits from the spare top bits of bytes 0–3 (scales) and 4–7 (mins).
@inline(__always)
func kQuantScaleAndMin(_ scales: UnsafeRawPointer, index: Int) -> (scale: Float, min: Float) {
    if index < 4 {
        return (Float(scales.quantByte(at: index) & 0x3f), Float(scales.quantByte(at: index + 4) & 0x3f))
    }
    let packed = scales.quantByte(at: index + 4)
    let scale = (packed & 0x0f) | ((scales.quantByte(at: index - 4) >> 6) << 4)
    let min = (packed >> 4) | ((scales.quantByte(at: index) >> 6) << 4)
    return (Float(scale), Float(min))
}

/// `block_q4_K` (144 bytes): f16 d, f16 dmin, scales[12], qs[128]. Each 32-byte run of `qs` holds
/// two sub-blocks: the low nibbles are 32 elements, then the high nibbles are the next 32.
@inline(__always)
func dequantizeQ4_KBlock(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
    let d = block.halfFloat(at: 0)
    let dmin = block.halfFloat(at: 2)
    let scales = block + 4
    var qs = block + 16
    var output = y
    for pair in 0..<4 {
        let (lowScale, lowMin) = kQuantScaleAndMin(scales, index: 2 * pair)
        let (highScale, highMin) = kQuantScaleAndMin(scales, index: 2 * pair + 1)
        let lowFactor = d * lowScale, lowOffset = dmin * lowMin
        let highFactor = d * highScale, highOffset = dmin * highMin
        for l in 0..<32 {
            let byte = qs.quantByte(at: l)
            output[l] = lowFactor * Float(byte & 0x0f) - lowOffset
            output[l + 32] = highFactor * Float(byte >> 4) - highOffset
        }
        qs += 32
        output += 64
    }
}

/// `block_q5_K` (176 bytes): f16 d, f16 dmin, scales[12], qh[32], qs[128]. As Q4_K, plus a fifth
/// bit: for sub-block s, bit s of `qh[l]` is bit 4 of its element l.
@inline(__always)
func dequantizeQ5_KBlock(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
    let d = block.halfFloat(at: 0)
    let dmin = block.halfFloat(at: 2)
    let scales = block + 4
    let qh = block + 16
    var qs = block + 48
    var output = y
    for pair in 0..<4 {
        let (lowScale, lowMin) = kQuantScaleAndMin(scales, index: 2 * pair)
        let (highScale, highMin) = kQuantScaleAndMin(scales, index: 2 * pair + 1)
        let lowFactor = d * lowScale, lowOffset = dmin * lowMin
        let highFactor = d * highScale, highOffset = dmin * highMin
        let lowBit = UInt8(2 * pair), highBit = UInt8(2 * pair + 1)
        for l in 0..<32 {
            let byte = qs.quantByte(at: l)
            let high = qh.quantByte(at: l)
            let low5 = (byte & 0x0f) | (((high >> lowBit) & 1) << 4)
            let high5 = (byte >> 4) | (((high >> highBit) & 1) << 4)
            output[l] = lowFactor * Float(low5) - lowOffset
            output[l + 32] = highFactor * Float(high5) - highOffset
        }
        qs += 32
        output += 64
    }
}

/// `block_q6_K` (210 bytes): ql[128] low nibbles, qh[64] 2-bit high parts, scales[16] Int8, f16 d.
/// Each half (128 elements) uses 64 bytes of `ql` and 32 of `qh`: element l + 32·k (k in 0..<4)
/// takes its low nibble from `ql[l]` (k = 0, 2: low/high nibble) or `ql[l + 32]` (k = 1, 3), its
/// high 2 bits from bits 2k…2k+1 of `qh[l]`, and its scale from `scales[l / 16 + 2k]`.
@inline(__always)
func dequantizeQ6_KBlock(_ block: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
    let d = block.halfFloat(at: 208)
    var ql = block
    var qh = block + 128
    var scales = block + 192
    var output = y
    for _ in 0..<2 {
        for l in 0..<32 {
            let scaleIndex = l / 16
            let lowA = ql.quantByte(at: l)
            let lowB = ql.quantByte(at: l + 32)
            let high = qh.quantByte(at: l)
            let q0 = Int32((lowA & 0x0f) | ((high & 0x03) << 4)) - 32
            let q1 = Int32((lowB & 0x0f) | (((high >> 2) & 0x03) << 4)) - 32
            let q2 = Int32((lowA >> 4) | (((high >> 4) & 0x03) << 4)) - 32
            let q3 = Int32((lowB >> 4) | ((high >> 6) << 4)) - 32
            output[l] = d * Float(Int8(bitPattern: scales.quantByte(at: scaleIndex))) * Float(q0)
            output[l + 32] = d * Float(Int8(bitPattern: scales.quantByte(at: scaleIndex + 2))) * Float(q1)
            output[l + 64] = d * Float(Int8(bitPattern: scales.quantByte(at: scaleIndex + 4))) * Float(q2)
            output[l + 96] = d * Float(Int8(bitPattern: scales.quantByte(at: scaleIndex + 6))) * Float(q3)
        }
        ql += 64
        qh += 32
        scales += 8
        output += 128
    }
}
