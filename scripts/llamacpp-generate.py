#!/usr/bin/env python3
"""Greedy answers from llama.cpp in one streaming conversation, the way `streamppl generate` holds it.

Writes the fixtures in Tests/StreamPPLTests/Fixtures/reference/llamacpp/<model-stem>.chat.jsonl: one JSON
object per config and turn (`config`, `turn`, `prompt`, `prompt_ids`, `generated_ids`, `cache_tokens`,
`stop`, `margins`), for a test to feed the same prompts to streamppl and compare the token ids.

Not a project dependency: it needs llama-cpp-python, jinja2, gguf and numpy (the venv of
scripts/compare-decode-speed.sh). Run it with that venv's python, e.g.

    nice -n 5 /tmp/lcp-venv/bin/python scripts/llamacpp-generate.py \\
        --model models/SmolLM2-135M-Instruct.Q4_1.gguf --prompts datasets/chat/prompts.jsonl --turns 3 \\
        --cache dense --cache 4+124 --max-new-tokens 128 \\
        --out Tests/StreamPPLTests/Fixtures/reference/llamacpp/SmolLM2-135M-Instruct.Q4_1.chat.jsonl

The model runs as an F32-dequantized copy with an F32 KV cache, one token per llama_decode (the
reasons and the copy: scripts/llamacpp-reference-nll.py).

The conversation, independently of streamppl's code: each turn's text is the model's own chat template
(`tokenizer.chat_template`, rendered with jinja2 as transformers does) of the conversation so far with the
generation prompt, minus what was already fed: the previous render and the previous answer's text. The
first turn's text gets BOS when the GGUF says add_bos_token; control tokens are parsed (special=True).
The answer is the argmax of each step's logits (the lowest id on a tie) until the model's end of
generation token (llama_vocab_is_eog; not fed) or --max-new-tokens. `margins`: per generated token, its logit
minus the runner-up's, so a mismatch can be told from a near tie.
The cache (METHOD.md §2, `generate`): under `x+y`, before a turn's tokens are fed, the oldest non-sink
entries are removed until the window holds at most y - (turn tokens + max new tokens) (none kept when
that is negative); after each step, while the cache holds more than x+y entries, the oldest non-sink
one goes. Removal is llama_memory_seq_rm + llama_memory_seq_add, so keys sit at their cache ranks.
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from f32_copy import write_f32_copy  # noqa: E402
from llamacpp_context import OneTokenContext  # noqa: E402
from reference_stream import parse_cache  # noqa: E402

PROG = "llamacpp-generate"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="GGUF file (quantized; an F32 copy is what runs)")
    p.add_argument("--prompts", required=True, help="JSON Lines with a `turns` array per line")
    p.add_argument("--turns", type=int, required=True, help="how many prompts, in file order, turns flattened")
    p.add_argument("--cache", action="append", required=True, help="dense or x+y; repeat for several")
    p.add_argument("--max-new-tokens", type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--f32", help="where the F32 copy goes (reused if it exists; default: a temporary folder)")
    p.add_argument("--out", required=True, help="JSON Lines to write")
    return p.parse_args()


def read_prompts(path, count):
    prompts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                prompts += json.loads(line)["turns"]
    if len(prompts) < count:
        sys.exit(f"{PROG}: {path}: {len(prompts)} prompts, {count} asked for")
    return prompts[:count]


class ChatTemplate:
    """The GGUF's own Jinja chat template, rendered as transformers renders it."""

    def __init__(self, model_path):
        import gguf
        from jinja2.sandbox import ImmutableSandboxedEnvironment
        reader = gguf.GGUFReader(model_path)
        field = reader.get_field("tokenizer.chat_template")
        if field is None:
            sys.exit(f"{PROG}: {model_path}: no tokenizer.chat_template")
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        self.template = env.from_string(field.contents())

    def render(self, messages):
        return self.template.render(messages=messages, add_generation_prompt=True, bos_token="", eos_token="")


class Conversation(OneTokenContext):
    """One llama.cpp context holding a whole conversation, fed one token per llama_decode."""

    def __init__(self, llama_cpp, model_path, threads, cache, max_new_tokens):
        super().__init__(llama_cpp, model_path, 4096, threads, PROG)
        self.cache = cache
        self.max_new_tokens = max_new_tokens

    def make_room(self, tokens):
        if self.cache is None:
            return
        sinks, window = self.cache
        while self.cached - min(sinks, self.cached) > max(0, window - tokens):
            self.remove_oldest_non_sink(sinks)

    def feed(self, token):
        row = self.decode(token).copy()
        self.evict(self.cache)
        return row

    def respond(self, text, first):
        ids = self.llm.tokenize(text.encode("utf-8"), add_bos=first and self.add_bos, special=True)
        self.make_room(len(ids) + self.max_new_tokens)
        for token in ids:
            logits = self.feed(token)
        generated, margins, stop = [], [], "max-new-tokens"
        while len(generated) < self.max_new_tokens:
            top2 = np.argpartition(-logits, 1)[:2]
            best = int(np.flatnonzero(logits == logits.max())[0])
            if self.lib.llama_vocab_is_eog(self.vocab, best):
                stop = "end-of-turn"
                break
            generated.append(best)
            margins.append(float(abs(logits[top2[0]] - logits[top2[1]])))
            logits = self.feed(best)
        return ids, generated, margins, stop

    def detokenize(self, ids):
        return self.llm.detokenize(ids).decode("utf-8", errors="replace")


def main():
    args = parse_args()
    import llama_cpp
    prompts = read_prompts(args.prompts, args.turns)
    template = ChatTemplate(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        f32 = args.f32 or os.path.join(tmp, "model.f32.gguf")
        if not os.path.exists(f32):
            print(f"{PROG}: writing the F32 copy {f32}", file=sys.stderr)
            write_f32_copy(args.model, f32)
        rows = []
        for config in args.cache:
            cache = parse_cache(config, PROG)
            conversation = Conversation(llama_cpp, f32, args.threads, cache, args.max_new_tokens)
            messages, rendered = [], ""
            for turn, prompt in enumerate(prompts, 1):
                messages.append({"role": "user", "content": prompt})
                text = template.render(messages)
                if not text.startswith(rendered):
                    sys.exit(f"{PROG}: the chat template does not render turn {turn} as a continuation")
                ids, generated, margins, stop = conversation.respond(text[len(rendered):], turn == 1)
                answer = conversation.detokenize(generated)
                messages.append({"role": "assistant", "content": answer})
                rendered = text + answer
                rows.append({"config": config, "turn": turn, "prompt": prompt, "prompt_ids": ids,
                             "generated_ids": generated, "cache_tokens": conversation.cached, "stop": stop,
                             "margins": [round(m, 5) for m in margins]})
                print(f"{PROG}: {config} turn {turn}: {len(ids)} fed, {len(generated)} generated ({stop}), "
                      f"{conversation.cached} cached, smallest margin {min(margins, default=float('nan')):.2e}",
                      file=sys.stderr)
    with open(args.out + ".partial", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    os.replace(args.out + ".partial", args.out)


if __name__ == "__main__":
    main()
