#!/usr/bin/env python3
"""Per-token reference NLLs from an independent float64 NumPy forward pass (METHOD.md §1-§2).

For the tiny random-weight models of scripts/tiny-models.py (architectures llama, qwen2, qwen3,
gemma3, gptneox, falcon, mpt; F32 tensors, byte-level BPE vocabulary): reads the GGUF (or .gguf.gz)
with gguf-py, tokenizes the text itself from the GGUF's tokens and merges, and streams it the way
scripts/llamacpp-reference-nll.py does, writing the same log format (gzip CSV
`config,doc,position,token,nll`), so the two are compared token by token, token ids included:

    /tmp/lcp-venv/bin/python scripts/numpy-reference-nll.py \\
        --model Tests/StreamPPLTests/Fixtures/reference/tiny/llama.gguf.gz \\
        --data datasets/pg19-shakespeare/000_hamlet_gut.txt.gz \\
        --cache dense --cache 4+60 --cache 0+64 --max-tokens 400 \\
        --out Tests/StreamPPLTests/Fixtures/reference/tiny/llama.numpy.nll.csv.gz

Everything is float64 and written from llama.cpp's definitions (src/models/<arch>.cpp), not
from its code: GELU is the tanh form ggml_gelu means, computed exactly (llama.cpp's CPU backend
looks it up in an f16 table instead, which is most of the difference on GELU models).

The cache (METHOD.md §2): each fed token's keys (before rotary) and values are computed once, at
every layer, when it is fed, and kept; under `x+y`, after each step, while more than x+y are kept
the one at rank x is dropped. At each step key j sits at its rank among the kept tokens and the
query at the rank after the last key: those positions turn the rotary embedding, and for ALiBi
the bias of head h is -slope_h * (query position - key position), with llama.cpp's slopes
(n = the largest power of two <= heads: 2^(-b(h+1)/n) for h < n, else 2^(-(b/2)(2(h-n)+1)/n),
b = attention.max_alibi_bias). On gemma3's local layers a key is visible only when query position -
key position < attention.sliding_window, in those same positions. `--positions original` puts
every key and the query at their stream indices instead.

The policies that evict by attention (METHOD.md §2b) keep their tokens per layer and KV head, in
stream order, so the positions above still hold: after each step, `h2o:H+R` adds to each kept
token's score its attention weights of that step summed over the query heads of its KV head, and
while more than H+R are kept drops, of all but the R newest, the one with the lowest score;
`tova:N` drops, while more than N are kept, the token with the lowest weight averaged over all
query heads of the layer. Of equal scores or weights, the later token goes.
"""
import argparse
import copy
import csv
import gzip
import io
import math
import os
import re
import shutil
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_stream import documents, parse_cache  # noqa: E402

PROG = "numpy-reference-nll"
ARCHS = ("llama", "qwen2", "qwen3", "gemma3", "gptneox", "falcon", "mpt")

# GPT-2's pre-tokenizer (llama.cpp's "gpt-2") for ASCII text: Python's re has no \p{L}, so
# documents must be ASCII (checked)
GPT2_SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="GGUF file (F32), or .gguf.gz")
    p.add_argument("--data", required=True, help="a folder of *.txt / *.txt.gz documents, or one file")
    p.add_argument("--cache", action="append", required=True, help="dense, x+y, h2o:H+R or tova:N; repeat for several")
    p.add_argument("--positions", choices=("cache", "original"), default="cache",
                   help="rotary/ALiBi positions: rank in the cache (default) or stream index (METHOD.md §2)")
    p.add_argument("--max-tokens", type=int, required=True, help="scored predictions per config")
    p.add_argument("--out", required=True, help="gzip CSV to write (config,doc,position,token,nll)")
    return p.parse_args()


def read_document(path):
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as e:
        sys.exit(f"{PROG}: {path}: not ASCII at byte {e.start} (this tokenizer handles ASCII only)")


class Model:
    """Hyper-parameters, float64 tensors and vocabulary of one GGUF."""

    def __init__(self, path, name=None):
        import gguf
        self.path = name or path  # what messages name (the .gguf.gz, not its unpacked copy)
        try:
            reader = gguf.GGUFReader(path)
        except (OSError, ValueError) as e:
            self.fail(f"not a readable GGUF file ({e})")
        self.fields = {f.name: f for f in reader.fields.values()}
        self.arch = self.key("general.architecture")
        if self.arch not in ARCHS:
            self.fail(f"architecture {self.arch!r} is not one of {', '.join(ARCHS)}")
        self.tensors = {}
        for t in reader.tensors:
            if t.tensor_type != gguf.GGMLQuantizationType.F32:
                self.fail(f"tensor {t.name} is {t.tensor_type.name}, expected F32")
            # gguf-py gives (rows, columns) = (ne[1], ne[0]): a weight is (out, in)
            self.tensors[t.name] = np.array(t.data, dtype=np.float64).reshape([int(n) for n in reversed(t.shape)])
        a = self.arch
        self.embd = self.key(f"{a}.embedding_length")
        self.layers = self.key(f"{a}.block_count")
        self.heads = self.key(f"{a}.attention.head_count")
        self.kv_heads = self.key(f"{a}.attention.head_count_kv", self.heads)
        self.head = self.embd // self.heads
        self.rms = a in ("llama", "qwen2", "qwen3", "gemma3")
        self.eps = self.key(f"{a}.attention.layer_norm_rms_epsilon" if self.rms else f"{a}.attention.layer_norm_epsilon")
        self.rope = None if a == "mpt" else ("norm" if a == "llama" else "neox")
        self.rot = self.key(f"{a}.rope.dimension_count", self.head) if self.rope else 0
        self.base = self.key(f"{a}.rope.freq_base", 10000.0) if self.rope else 0.0
        # gemma3: layer il is local unless il % pattern == pattern - 1; local layers see keys less
        # than `window` positions back and turn rotary with their own base
        self.window = self.key(f"{a}.attention.sliding_window", 0) if a == "gemma3" else 0
        pattern = self.key(f"{a}.attention.sliding_window_pattern", 6)
        if isinstance(pattern, list):  # one flag per layer
            self.local = [self.window > 0 and bool(flag) for flag in pattern]
        else:
            self.local = [self.window > 0 and il % pattern < pattern - 1 for il in range(self.layers)]
        if self.key(f"{a}.final_logit_softcapping", None) is not None:
            self.fail(f"{a}.final_logit_softcapping is not implemented")
        self.base_local = self.key(f"{a}.rope.freq_base_swa", 10000.0)
        self.alibi = self.key(f"{a}.attention.max_alibi_bias", 0.0) if a == "mpt" else 0.0
        if a == "gptneox" and not self.key("gptneox.use_parallel_residual"):
            self.fail("gptneox.use_parallel_residual false is not implemented")
        self.tokens = self.key("tokenizer.ggml.tokens")
        self.merges = {tuple(m.split(" ", 1)): rank for rank, m in enumerate(self.key("tokenizer.ggml.merges"))}
        self.add_bos = bool(self.key("tokenizer.ggml.add_bos_token", False))
        self.bos = self.key("tokenizer.ggml.bos_token_id", None)
        if self.key("tokenizer.ggml.model") != "gpt2" or self.key("tokenizer.ggml.pre", "default") not in ("gpt-2", "gpt2"):
            self.fail("tokenizer is not gpt2 / gpt-2 (the only one implemented)")
        self.output = self.tensors.get("output.weight", self.t("token_embd.weight"))

    def fail(self, message):
        sys.exit(f"{PROG}: {self.path}: {message}")

    def key(self, name, default=KeyError):
        field = self.fields.get(name)
        if field is None:
            if default is KeyError:
                self.fail(f"missing key {name}")
            return default
        return field.contents()

    def t(self, name):
        if name not in self.tensors:
            self.fail(f"missing tensor {name}")
        return self.tensors[name]

    def has(self, name):
        return name in self.tensors

    def alibi_slopes(self):
        n = 1 << int(math.floor(math.log2(self.heads)))
        m0 = 2.0 ** (-self.alibi / n)
        m1 = 2.0 ** (-(self.alibi / 2.0) / n)
        return np.array([m0 ** (h + 1) if h < n else m1 ** (2 * (h - n) + 1) for h in range(self.heads)])


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


class Tokenizer:
    """Byte-level BPE: GPT-2 split, bytes to characters, merges by rank (lowest first, leftmost first)."""

    def __init__(self, model):
        self.ids = {s: i for i, s in enumerate(model.tokens)}
        self.ranks = model.merges
        self.b2u = byte_to_unicode()
        self.prefix = [model.bos] if model.add_bos else []

    def word(self, text):
        symbols = [self.b2u[b] for b in text.encode()]
        while len(symbols) > 1:
            ranked = [(self.ranks.get(pair, math.inf), i) for i, pair in enumerate(zip(symbols, symbols[1:]))]
            rank, i = min(ranked)
            if rank == math.inf:
                break
            symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
        out = []
        for s in symbols:
            if s in self.ids:
                out.append(self.ids[s])
            else:  # not in the vocabulary: its characters (each one byte)
                out.extend(self.ids[c] for c in s)
        return out

    def encode(self, text):
        ids = list(self.prefix)
        for piece in GPT2_SPLIT.findall(text):
            ids.extend(self.word(piece))
        return ids


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def layer_norm(x, w, b, eps):
    c = x - x.mean(axis=-1, keepdims=True)
    y = c / np.sqrt(np.mean(c * c, axis=-1, keepdims=True) + eps) * w
    return y if b is None else y + b


def gelu(x):
    """The tanh approximation (what ggml_gelu computes), exactly."""
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def rotate(x, positions, model, base):
    """Rotary embedding of x (n, heads, head) at integer positions (n,): the first `rot` dimensions,
    paired (2i, 2i+1) for "norm" and (i, i + rot/2) for "neox", angle position * base^(-2i/rot)."""
    if model.rope is None:
        return x
    half = model.rot // 2
    freq = base ** (-2.0 * np.arange(half) / model.rot)
    angle = positions[:, None, None].astype(np.float64) * freq[None, None, :]
    cos, sin = np.cos(angle), np.sin(angle)
    out = x.copy()
    if model.rope == "norm":
        a, b = x[..., 0:model.rot:2], x[..., 1:model.rot:2]
        out[..., 0:model.rot:2] = a * cos - b * sin
        out[..., 1:model.rot:2] = a * sin + b * cos
    else:
        a, b = x[..., :half], x[..., half:model.rot]
        out[..., :half] = a * cos - b * sin
        out[..., half:model.rot] = a * sin + b * cos
    return out


class Stream:
    """One stream under one cache: per layer and KV head, the kept tokens' keys (before rotary), values and stream
    indices, in stream order, and H2O's scores."""

    def __init__(self, model, cache, original_positions=False):
        self.m = model
        self.cache = cache
        self.original = original_positions
        shape = [[[] for _ in range(model.kv_heads)] for _ in range(model.layers)]
        self.keys, self.values, self.kept, self.scores = (copy.deepcopy(shape) for _ in range(4))
        self.weights = [None] * model.layers   # this step's attention, (heads, n) per layer
        self.fed = 0
        self.slopes = model.alibi_slopes() if model.alibi > 0 else None

    def norm(self, x, name):
        m = self.m
        if m.rms:
            return rms_norm(x, m.t(name + ".weight"), m.eps)
        bias = m.tensors.get(name + ".bias")
        return layer_norm(x, m.t(name + ".weight"), bias, m.eps)

    def linear(self, x, name):
        y = self.m.t(name + ".weight") @ x
        bias = self.m.tensors.get(name + ".bias")
        return y if bias is None else y + bias

    def attention(self, il, x):
        m, p = self.m, f"blk.{il}."
        q_rows, kv_rows = m.heads * m.head, m.kv_heads * m.head
        if m.has(p + "attn_qkv.weight"):
            qkv = self.linear(x, p + "attn_qkv")
            q, k, v = qkv[:q_rows], qkv[q_rows:q_rows + kv_rows], qkv[q_rows + kv_rows:]
        else:
            q, k, v = (self.linear(x, p + n) for n in ("attn_q", "attn_k", "attn_v"))
        q = q.reshape(m.heads, m.head)
        k = k.reshape(m.kv_heads, m.head)
        v = v.reshape(m.kv_heads, m.head)
        if m.has(p + "attn_q_norm.weight"):
            q = rms_norm(q, m.t(p + "attn_q_norm.weight"), m.eps)
            k = rms_norm(k, m.t(p + "attn_k_norm.weight"), m.eps)
        base = m.base_local if m.local[il] else m.base
        group = m.heads // m.kv_heads
        out = np.empty((m.heads, m.head))
        weights = np.empty((m.heads, len(self.kept[il][0]) + 1))
        for kh in range(m.kv_heads):
            self.keys[il][kh].append(k[kh])
            self.values[il][kh].append(v[kh])
            self.kept[il][kh].append(self.fed)
            self.scores[il][kh].append(0.0)
            n = len(self.kept[il][kh])
            # cache slots: every key at its rank, the query at the slot after the last key (its own); or, with
            # --positions original, every token at its stream index
            positions = np.array(self.kept[il][kh]) if self.original else np.arange(n)
            query_pos = self.fed if self.original else n - 1
            keys = rotate(np.stack(self.keys[il][kh])[:, None, :], positions, m, base)[:, 0, :]   # (n, head)
            values = np.stack(self.values[il][kh])
            for h in range(kh * group, (kh + 1) * group):
                qh = rotate(q[None, h:h + 1], np.array([query_pos]), m, base)[0, 0]
                scores = keys @ qh / math.sqrt(m.head)
                if self.slopes is not None:
                    scores = scores - self.slopes[h] * (query_pos - positions)
                if m.local[il]:
                    scores = np.where(query_pos - positions < m.window, scores, -np.inf)
                w = np.exp(scores - scores.max())
                w = w / w.sum()
                out[h] = w @ values
                weights[h] = w
        self.weights[il] = weights
        return self.linear(out.reshape(-1), p + "attn_output")

    def evict(self):
        """METHOD.md §2 and §2b, after each step: which token each layer and KV head drops."""
        m, cache = self.m, self.cache
        if cache is None:
            return
        group = m.heads // m.kv_heads
        for il in range(m.layers):
            n = len(self.kept[il][0])
            for kh in range(m.kv_heads):
                scores = self.scores[il][kh]
                if cache[0] == "h2o":   # scores: attention received, summed over the group's heads and every step
                    for j, w in enumerate(self.weights[il][kh * group:(kh + 1) * group].sum(axis=0)):
                        scores[j] += w
                    if n <= cache[1] + cache[2]:
                        continue
                    # the lowest score among all but the `recent` newest; of equal ones the later goes
                    drop = min(range(n - cache[2]), key=lambda j: (scores[j], -j))
                elif cache[0] == "tova":   # this step's weights averaged over all heads of the layer
                    if n <= cache[1]:
                        continue
                    mean = self.weights[il].mean(axis=0)
                    drop = min(range(n), key=lambda j: (mean[j], -j))
                else:                      # x+y: the oldest token after the sinks
                    if n <= cache[0] + cache[1]:
                        continue
                    drop = cache[0]
                for lists in (self.keys, self.values, self.kept, self.scores):
                    del lists[il][kh][drop]

    def ffn(self, il, x):
        m, p = self.m, f"blk.{il}."
        if m.arch == "gemma3":
            return self.linear(gelu(self.linear(x, p + "ffn_gate")) * self.linear(x, p + "ffn_up"), p + "ffn_down")
        if m.has(p + "ffn_gate.weight"):
            g = self.linear(x, p + "ffn_gate")
            return self.linear(g / (1.0 + np.exp(-g)) * self.linear(x, p + "ffn_up"), p + "ffn_down")
        return self.linear(gelu(self.linear(x, p + "ffn_up")), p + "ffn_down")

    def feed(self, token):
        """Log-softmax (float64) of the prediction after token, then the eviction of METHOD.md §2."""
        m = self.m
        x = m.t("token_embd.weight")[token].copy()
        if m.arch == "gemma3":
            x *= math.sqrt(m.embd)
        for il in range(m.layers):
            p = f"blk.{il}."
            h = self.norm(x, p + "attn_norm")
            if m.arch == "gemma3":     # norms after attention and FFN too
                x = x + self.norm(self.attention(il, h), p + "post_attention_norm")
                x = x + self.norm(self.ffn(il, self.norm(x, p + "ffn_norm")), p + "post_ffw_norm")
            elif m.arch == "gptneox":    # x + attn(ln1(x)) + ffn(ln2(x))
                x = x + self.attention(il, h) + self.ffn(il, self.norm(x, p + "ffn_norm"))
            elif m.arch == "falcon":   # x + attn(ln(x)) + ffn(ln(x))
                x = x + self.attention(il, h) + self.ffn(il, h)
            else:
                x = x + self.attention(il, h)
                x = x + self.ffn(il, self.norm(x, p + "ffn_norm"))
        logits = m.output @ self.norm(x, "output_norm")
        self.evict()
        self.fed += 1
        top = logits.max()
        return logits - (top + math.log(np.exp(logits - top).sum()))


def run_config(model, doc_tokens, config, cache, max_tokens, rows, original_positions):
    stream = Stream(model, cache, original_positions)
    scored = 0
    for doc, tokens in enumerate(doc_tokens):
        for i in range(len(tokens) - 1):
            if scored == max_tokens:
                return scored
            logprobs = stream.feed(tokens[i])
            rows.append((config, doc, i + 1, tokens[i + 1], -float(logprobs[tokens[i + 1]])))
            scored += 1
    return scored


def open_model(path):
    """The model at path; a .gz is gunzipped to a temporary file first (gguf-py memory-maps it)."""
    if not os.path.isfile(path):
        sys.exit(f"{PROG}: {path}: no such file")
    if not path.endswith(".gz"):
        return Model(path)
    with tempfile.TemporaryDirectory(prefix="numpy-ref-", dir="/tmp") as tmp:
        plain = os.path.join(tmp, os.path.basename(path)[:-3])
        try:
            with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
        except (OSError, EOFError) as e:
            sys.exit(f"{PROG}: {path}: not a readable gzip file ({e})")
        return Model(plain, name=path)


def main():
    args = parse_args()
    caches = [(c, parse_cache(c, PROG, by_attention=True)) for c in args.cache]
    if args.max_tokens < 1:
        sys.exit(f"{PROG}: --max-tokens must be positive")
    model = open_model(args.model)
    tokenizer = Tokenizer(model)
    doc_tokens, predictions = [], 0
    for path in documents(args.data, PROG):
        if predictions >= args.max_tokens:
            break
        doc_tokens.append(tokenizer.encode(read_document(path)))
        predictions += max(0, len(doc_tokens[-1]) - 1)

    rows = []
    for config, cache in caches:
        scored = run_config(model, doc_tokens, config, cache, args.max_tokens, rows, args.positions == "original")
        mean = sum(r[4] for r in rows[-scored:]) / scored
        print(f"{PROG}: {config}: {scored} predictions, PPL {math.exp(mean):.4f}", file=sys.stderr)

    text = io.StringIO()
    out = csv.writer(text, lineterminator="\n")
    out.writerow(["config", "doc", "position", "token", "nll"])
    out.writerows((c, d, p, t, repr(n)) for c, d, p, t, n in rows)
    with open(args.out + ".partial", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.getvalue().encode())
    os.replace(args.out + ".partial", args.out)
    print(f"{PROG}: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
