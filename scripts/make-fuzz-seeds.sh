#!/usr/bin/env bash
# Regenerate the fuzz targets' seed corpus, Fuzz/Corpus/ (see Fuzz/README.md).
#
# Usage: scripts/make-fuzz-seeds.sh
#   Fuzz/Corpus/gguf/      small valid GGUF files made by the test writer (Tests/StreamPPLTests/GGUF/
#                          FuzzSeedCorpusTests.swift, run here with STREAMPPL_FUZZ_SEEDS set), plus the first
#                          4 KiB of the real model's header when models/ has it
#   Fuzz/Corpus/settings/  a selector byte ('0' TOML run configuration, '1' JSON run configuration,
#                          '2' experiment file; FuzzSettings reads the first byte modulo 3) then the file:
#                          .ci/gate.toml, experiments/*.json and the examples of the configuration tests
# Inputs the fuzzers found and that were fixed (regression-*) are kept; every other seed is rewritten.
set -euo pipefail
cd "$(dirname "$0")/.."

gguf=Fuzz/Corpus/gguf settings=Fuzz/Corpus/settings
mkdir -p "$gguf" "$settings"
find "$gguf" "$settings" -type f ! -name 'regression-*' -delete

STREAMPPL_FUZZ_SEEDS=$PWD/$gguf swift test --filter FuzzSeedCorpusTests
model=models/SmolLM2-135M-Instruct.Q4_1.gguf
if [[ -f $model ]]; then head -c 4096 "$model" > "$gguf/smollm2-header-4k.gguf"; fi

seed() { { printf '%s' "$1"; cat; } > "$settings/$2"; }
seed 0 toml-ci-gate.toml < .ci/gate.toml
for file in experiments/*.json; do seed 2 "experiment-$(basename "$file")" < "$file"; done
seed 0 toml-run.toml <<'TOML'
# the same run as run.json
model = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
data = ["datasets/a", "datasets/b"]
cache = [
  '4"\n"+1020',  # a literal string: the quotes and the backslash are the config's own
  "dense",
  "recompute:64/8",
]
max_tokens = 4_096
chunk-size = 256
exact-token-by-token = false
positions = 'cache'
log-format = "csv"
resume = true
shard = "1/3"
checkpoint-interval = 30
out = "out/run"
repeat = 2
TOML
seed 0 toml-every-value.toml <<'TOML'
# a run file

model = "models/x.gguf"   # trailing comment
"quoted key" = 'C:\dir\file'
cache = '4"\n"+1020'
escapes = "tab\t newline\n quote\" backslash\\ e\u00E9 smile\U0001F600 \b\f\r"
max_tokens = 1_000
signed = [+5, -3, 0]
floats = [0.5, -1e3, 6.02E+23, 1_0.2_5, 3e-2]
flags=[true,false]
caches = [
    "dense",   # the baseline
    '4+1020',
    # a comment line inside the array
    [1, []],
]
empty = []
with-dash = ""
TOML
printf '0\xef\xbb\xbfmodel = "m.gguf"\r\n\r\ncache = [\r\n "h2o:4+60",\r\n]\r\nmax-tokens = 9223372036854775807\r\n' > "$settings/toml-bom-crlf.toml"
seed 1 json-run.json <<'JSON'
{
  "model": "models/SmolLM2-135M-Instruct.Q4_1.gguf",
  "data": ["datasets/a", "datasets/b"],
  "cache": ["4\"\\n\"+1020", "dense", "recompute:64/8"],
  "max-tokens": 4096,
  "chunk_size": 256,
  "exact-token-by-token": false,
  "positions": "cache",
  "resume": true
}
JSON
seed 1 json-numbers.json <<'JSON'
{"max-tokens": 1e6, "repeat": 18446744073709551615, "chunk-size": 100.0, "cache": "0+256", "shard": "0/2",
 "checkpoint-interval": -1, "data": [], "log-format": "jsonl", "positions": "original"}
JSON
echo "make-fuzz-seeds: $(ls "$gguf" | wc -l) GGUF seeds ($(du -sk "$gguf" | cut -f1) KiB), $(ls "$settings" | wc -l) settings seeds"
