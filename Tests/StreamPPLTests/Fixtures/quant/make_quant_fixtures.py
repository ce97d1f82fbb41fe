#!/usr/bin/env python3
"""Builds the dequantization fixtures used by Tests/StreamPPLTests/Quant/DequantizeTests.swift.

For every tensor type streamppl reads, writes `<TYPE>.bin` (raw ggml blocks) and `<TYPE>.f32`
(little-endian float32 values from the `gguf` package's numpy dequantizer, an implementation
independent of streamppl's). Blocks are random bytes plus hand-picked extremes: f16 scale fields at
±65504, ±smallest subnormal, ±0, inf and NaN; int8 values at -128/127; Q6_K scales at -128/127;
K-quant 6-bit scales and mins at 63. Deterministic (fixed seed): rerun with `python3 make_quant_fixtures.py`.
"""
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType as T, GGML_QUANT_SIZES
from gguf.quants import dequantize

OUT = Path(__file__).resolve().parent
rng = np.random.default_rng(20240611)

# Byte offsets of the f16 scale fields in each block (ggml-common.h).
HALF_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
MAX_HALF, MIN_HALF, SMALLEST_SUBNORMAL = 0x7BFF, 0xFBFF, 0x0001
EXTREME_HALVES = [MAX_HALF, MIN_HALF, SMALLEST_SUBNORMAL, 0x8001, 0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00]


def put_half(block: np.ndarray, offset: int, bits: int) -> None:
    block[offset:offset + 2] = np.array([bits], dtype="<u2").view(np.uint8)


def random_block(qtype: T) -> np.ndarray:
    return rng.integers(0, 256, GGML_QUANT_SIZES[qtype][1], dtype=np.uint8)


def finite_half_bits() -> int:
    """A random ordinary scale, as real quantized weights carry."""
    return int(np.array([rng.uniform(-2.0, 2.0)], dtype="<f2").view("<u2")[0])


def quant_blocks(qtype: T) -> list[np.ndarray]:
    fields = HALF_FIELDS[qtype]
    blocks = []
    # Random payloads under ordinary scales, then fully random bytes (scales may be anything).
    for _ in range(3):
        block = random_block(qtype)
        for offset in fields:
            put_half(block, offset, finite_half_bits())
        blocks.append(block)
    blocks += [random_block(qtype) for _ in range(2)]
    # Every scale field at each extreme value, and the two fields at opposite extremes.
    for bits in EXTREME_HALVES:
        block = random_block(qtype)
        for offset in fields:
            put_half(block, offset, bits)
        blocks.append(block)
    if len(fields) == 2:
        block = random_block(qtype)
        put_half(block, fields[0], MAX_HALF)
        put_half(block, fields[1], MIN_HALF)
        blocks.append(block)
    blocks += special_blocks(qtype)
    return blocks


def special_blocks(qtype: T) -> list[np.ndarray]:
    """Type-specific extremes of the quantized payload."""
    blocks = []
    if qtype == T.Q8_0:
        for fill in (0x80, 0x7F):  # int8 -128 and 127
            block = random_block(qtype)
            put_half(block, 0, MAX_HALF)
            block[2:] = fill
            blocks.append(block)
        block = random_block(qtype)
        block[2:] = np.tile(np.array([0x80, 0x7F, 0xFF, 0x00], dtype=np.uint8), 8)
        blocks.append(block)
    elif qtype in (T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1):
        for fill in (0x00, 0xFF):  # every code at its minimum, then its maximum
            block = random_block(qtype)
            put_half(block, 0, MIN_HALF)
            block[len(HALF_FIELDS[qtype]) * 2:] = fill
            blocks.append(block)
    elif qtype in (T.Q4_K, T.Q5_K):
        for fill in (0xFF, 0x3F):  # 6-bit scales and mins all 63; then only the low 6 bits set
            block = random_block(qtype)
            put_half(block, 0, finite_half_bits())
            put_half(block, 2, finite_half_bits())
            block[4:16] = fill
            blocks.append(block)
        block = random_block(qtype)
        put_half(block, 0, MAX_HALF)
        put_half(block, 2, MAX_HALF)
        block[4:16] = 0xFF
        block[16:] = 0xFF
        blocks.append(block)
    elif qtype == T.Q6_K:
        for scales, payload in ((0x80, 0xFF), (0x7F, 0x00), (0x80, 0x00), (0x7F, 0xFF)):
            block = random_block(qtype)
            block[:192] = payload
            block[192:208] = scales  # int8 -128 or 127
            put_half(block, 208, finite_half_bits())
            blocks.append(block)
        block = random_block(qtype)
        block[192:208] = np.tile(np.array([0x80, 0x7F], dtype=np.uint8), 8)
        put_half(block, 208, MAX_HALF)
        blocks.append(block)
    return blocks


def float16_values() -> np.ndarray:
    specials = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x83FF, 0x0400, 0x8400, 0x3C00, 0xBC00,
                MAX_HALF, MIN_HALF, 0x7C00, 0xFC00, 0x7C01, 0x7DFF, 0x7E00, 0xFE00, 0x7FFF, 0xFFFF]
    subnormals = np.arange(0x0000, 0x0400, dtype=np.uint16) | 0x8000 * (np.arange(0x400) % 2).astype(np.uint16)
    random = rng.integers(0, 1 << 16, 1024, dtype=np.uint16)
    return np.concatenate([np.array(specials, dtype=np.uint16), subnormals, random]).astype("<u2")


def bfloat16_values() -> np.ndarray:
    specials = [0x0000, 0x8000, 0x0001, 0x8001, 0x007F, 0x0080, 0x3F80, 0xBF80, 0x7F7F, 0xFF7F,
                0x7F80, 0xFF80, 0x7F81, 0x7FC0, 0xFFC0, 0x7FFF]
    random = rng.integers(0, 1 << 16, 1024, dtype=np.uint16)
    return np.concatenate([np.array(specials, dtype=np.uint16), random]).astype("<u2")


def float32_values() -> np.ndarray:
    specials = np.array([0, 0x80000000, 1, 0x7F7FFFFF, 0x7F800000, 0xFF800000, 0x7F800001, 0x7FC00000],
                        dtype=np.uint32)
    return np.concatenate([specials, rng.integers(0, 1 << 32, 256, dtype=np.uint32)]).astype("<u4")


def write(qtype: T, raw: np.ndarray) -> None:
    with np.errstate(invalid="ignore", over="ignore"):  # inf × 0 and inf − inf are part of the test
        values = np.asarray(dequantize(raw, qtype), dtype=np.float32).astype("<f4")
    block_elements, block_bytes = GGML_QUANT_SIZES[qtype]
    assert values.size == raw.size // block_bytes * block_elements
    (OUT / f"{qtype.name}.bin").write_bytes(raw.tobytes())
    (OUT / f"{qtype.name}.f32").write_bytes(values.tobytes())
    print(f"{qtype.name}: {raw.size // block_bytes} blocks, {values.size} values")


def main() -> None:
    write(T.F32, float32_values().view(np.uint8))
    write(T.F16, float16_values().view(np.uint8))
    write(T.BF16, bfloat16_values().view(np.uint8))
    for qtype in HALF_FIELDS:
        write(qtype, np.concatenate(quant_blocks(qtype)))


if __name__ == "__main__":
    main()
