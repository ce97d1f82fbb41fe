#!/usr/bin/env python3
"""Write llama.cpp's token ids of a text as a fixture: one id per line, BOS first when the GGUF adds one.

Usage: /tmp/lcp-venv/bin/python scripts/llamacpp-token-ids.py MODEL.gguf TEXT.txt OUT.ids

Uses llama-cpp-python (0.3.36) with vocab_only=True, so only the tokenizer metadata is read. The ids are
llama.cpp's tokenize(add_special=True, parse_special=False): BOS is put first exactly when the GGUF's
tokenizer.ggml.add_bos_token (or llama.cpp's default for the vocabulary type) says so, which is what
streamppl's Tokenizer.encodeDocument does (METHOD.md section 1).
"""
import sys

import llama_cpp


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    model_path, text_path, out_path = sys.argv[1:]
    with open(text_path, "rb") as f:
        text = f.read()
    model = llama_cpp.Llama(model_path=model_path, vocab_only=True, verbose=False)
    ids = model.tokenize(text, add_bos=True, special=False)
    with open(out_path, "w") as f:
        f.writelines(f"{i}\n" for i in ids)
    print(f"{out_path}: {len(ids)} tokens, first id {ids[0] if ids else None} (BOS {model.token_bos()})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
