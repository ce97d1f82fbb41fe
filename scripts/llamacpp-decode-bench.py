#!/usr/bin/env python3
"""Time llama.cpp decoding one token per forward pass under a sinks + window cache.

A reference point for `streamppl bench`'s token-by-token figure: the same GGUF file, the same thread
count, the same `S+W` streaming cache (attention sinks + recent window, evicted after every step
with cache-slot positions, as in METHOD.md §2).

Not a project dependency: it needs llama-cpp-python (see scripts/compare-decode-speed.sh for the
exact commands that build it into a venv in /tmp). Run it with that venv's python:

    /tmp/lcp-venv/bin/python scripts/llamacpp-decode-bench.py --model models/SmolLM2-135M-Instruct.Q4_1.gguf \\
        --tokens 256 --threads 2 --window 1020   # --text defaults to Tests/StreamPPLTests/Fixtures/reference/hamlet_gut.txt

What it does: loads the model with llama_cpp.Llama(n_ctx=C, n_threads=T, n_threads_batch=T, n_batch=1,
logits_all=False, verbose=False), tokenizes the text (special=False, BOS only if the model adds it), then
feeds tokens one at a time with llama_decode on a batch of one token whose logits are requested (so the
output head runs every step, as a perplexity evaluation needs). After each step, once the cache holds
S+W+1 entries, it removes the oldest non-sink entry (position S) and shifts the later positions down by
one (llama_memory_seq_rm + llama_memory_seq_add, so llama.cpp re-rotates the cached keys before the next
step). The first S+W tokens are fed untimed (filling the cache, as `streamppl bench` does), then N tokens
are timed. It prints:

    llama.cpp decode: X tokens/s (T threads, S+W, N tokens, model M)

--no-evict gives plain decoding (the cache only grows); with --window 0 that times the first N tokens
from an empty cache. --nll also scores every prediction (log-softmax in NumPy, inside the timed loop)
and prints the perplexity, a check that the eviction does what METHOD.md §2 says; with --sinks 4 --window 252
--tokens 1792 it covers the 2048 predictions of Tests/StreamPPLTests/Fixtures/reference/llamacpp/hamlet.s4r252.2048.nll.
"""
import argparse
import math
import os
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="GGUF file")
    p.add_argument("--text", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "StreamPPLTests",
                                                  "Fixtures", "reference", "hamlet_gut.txt"),
                   help="UTF-8 text file (.gz is decompressed; default: the committed Hamlet fixture)")
    p.add_argument("--tokens", type=int, default=256, help="timed tokens (N), after the untimed fill")
    p.add_argument("--threads", type=int, default=2, help="n_threads and n_threads_batch (T)")
    p.add_argument("--ctx", type=int, default=2048, help="n_ctx (C); must hold the cache")
    p.add_argument("--window", type=int, default=1020, help="recent window W (S+W tokens are fed untimed first)")
    p.add_argument("--sinks", type=int, default=4, help="attention sinks S (default 4)")
    p.add_argument("--no-evict", action="store_true", help="never evict (plain decode)")
    p.add_argument("--kv-type", choices=["f16", "f32"], default="f16",
                   help="KV cache type (llama.cpp's default f16; streamppl keeps f32)")
    p.add_argument("--flash-attn", action="store_true", help="flash_attn=True (llama-cpp-python default: off)")
    p.add_argument("--nll", action="store_true", help="also score each prediction and print the perplexity")
    return p.parse_args()


def read_text(path):
    if path.endswith(".gz"):
        import gzip
        with gzip.open(path, "rb") as f:
            data = f.read()
    else:
        with open(path, "rb") as f:
            data = f.read()
    data.decode("utf-8")  # invalid UTF-8 is an error, as in streamppl
    return data


def memory_ops(llama_cpp, ctx):
    """(seq_rm, seq_add) on sequence 0, under whichever names this binding exposes."""
    if hasattr(llama_cpp, "llama_get_memory") and hasattr(llama_cpp, "llama_memory_seq_rm"):
        mem = llama_cpp.llama_get_memory(ctx)
        return (lambda p0, p1: llama_cpp.llama_memory_seq_rm(mem, 0, p0, p1),
                lambda p0, p1, d: llama_cpp.llama_memory_seq_add(mem, 0, p0, p1, d),
                "llama_memory_seq_rm/seq_add")
    return (lambda p0, p1: llama_cpp.llama_kv_self_seq_rm(ctx, 0, p0, p1),
            lambda p0, p1, d: llama_cpp.llama_kv_self_seq_add(ctx, 0, p0, p1, d),
            "llama_kv_self_seq_rm/seq_add")


def main():
    args = parse_args()
    if args.tokens < 1 or args.window < 0 or args.sinks < 0 or args.threads < 1:
        sys.exit("llamacpp-decode-bench: --tokens/--threads must be positive, --window/--sinks non-negative")
    import llama_cpp
    if args.nll:
        import numpy as np

    capacity = args.sinks + args.window
    fill = args.window if args.no_evict else capacity  # untimed tokens fed first
    fed = fill + args.tokens
    needed = fed if args.no_evict else min(fed, capacity + 1)
    if needed > args.ctx:
        sys.exit(f"llamacpp-decode-bench: --ctx {args.ctx} cannot hold {needed} cache entries")

    kv = {"f16": llama_cpp.GGML_TYPE_F16, "f32": llama_cpp.GGML_TYPE_F32}[args.kv_type]
    llm = llama_cpp.Llama(model_path=args.model, n_ctx=args.ctx, n_threads=args.threads,
                          n_threads_batch=args.threads, n_batch=1, n_ubatch=1, logits_all=False,
                          flash_attn=args.flash_attn, type_k=kv, type_v=kv, verbose=False)
    ctx = llm.ctx
    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
    tokens = llm.tokenize(read_text(args.text), add_bos=add_bos, special=False)
    if len(tokens) < fed + (1 if args.nll else 0):
        sys.exit(f"llamacpp-decode-bench: {args.text} has {len(tokens)} tokens, need {fed + 1}")
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    seq_rm, seq_add, api = memory_ops(llama_cpp, ctx)

    batch = llama_cpp.llama_batch_init(1, 0, 1)
    batch.n_tokens = 1
    batch.n_seq_id[0] = 1
    batch.seq_id[0][0] = 0
    batch.logits[0] = 1  # logits for this token: the output head runs every step

    cached = 0  # entries in the cache = position of the next token
    nll_sum, scored = 0.0, 0

    def step(i):
        nonlocal cached, nll_sum, scored
        batch.token[0] = tokens[i]
        batch.pos[0] = cached
        rc = llama_cpp.llama_decode(ctx, batch)
        if rc != 0:
            sys.exit(f"llamacpp-decode-bench: llama_decode returned {rc} at token {i}")
        cached += 1
        logits = llama_cpp.llama_get_logits_ith(ctx, 0)
        if args.nll:
            row = np.ctypeslib.as_array(logits, shape=(n_vocab,)).astype(np.float64)
            m = row.max()
            nll_sum += m + math.log(np.exp(row - m).sum()) - row[tokens[i + 1]]
            scored += 1
        elif not logits:
            sys.exit("llamacpp-decode-bench: no logits")
        if not args.no_evict and cached > capacity:
            # evict the oldest non-sink entry, then close the gap: cache-slot positions
            if not seq_rm(args.sinks, args.sinks + 1):
                sys.exit("llamacpp-decode-bench: seq_rm failed")
            seq_add(args.sinks + 1, -1, -1)
            cached -= 1

    for i in range(fill):
        step(i)
    started = time.perf_counter()
    for i in range(fill, fed):
        step(i)
    seconds = time.perf_counter() - started
    llama_cpp.llama_batch_free(batch)

    cache = "dense, no eviction" if args.no_evict else f"{args.sinks}+{args.window}"
    print(f"llama.cpp decode: {args.tokens / seconds:.1f} tokens/s ({args.threads} threads, {cache}, "
          f"{args.tokens} tokens, model {os.path.basename(args.model)})")
    print(f"  (llama-cpp-python {llama_cpp.__version__}, KV {args.kv_type}, flash_attn "
          f"{'on' if args.flash_attn else 'off'}, {api}, {fill} untimed tokens first, "
          f"{1000 * seconds / args.tokens:.2f} ms/token)", file=sys.stderr)
    if args.nll:
        mean = nll_sum / scored
        print(f"  {scored} predictions: mean NLL {mean:.6f}, PPL {math.exp(mean):.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
