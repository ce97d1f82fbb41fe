#!/usr/bin/env bash
# Install what building and testing streamppl needs on a Debian/Ubuntu machine that already has
# Swift, then fetch the models into models/.
#
# Usage: scripts/ci-deps.sh [--no-models]
#
# System packages (only the missing ones are installed; nothing is done if all are present):
#   libopenblas-dev  CBLAS target (pkg-config name "openblas")
#   zlib1g-dev       CZlib target (pkg-config name "zlib")
#   pkg-config       how SwiftPM finds the two above
#   git, ca-certificates   SwiftPM fetches swift-argument-parser from GitHub
#   python3, python3-pip   only if no python3 with a working pip is on PATH (fetch-model.sh uses it)
# Runs apt-get as root, or through sudo otherwise. An existing python3/pip (e.g. pyenv) is left
# alone: python3-pip is installed from apt only when `python3 -m pip` does not work.
# Then runs scripts/fetch-model.sh for smollm2, gemma3 and qwen2 (idempotent).
set -euo pipefail

prog=ci-deps
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

fetch_models=1
for arg in "$@"; do
  case "$arg" in
    --no-models) fetch_models=0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$arg' (usage: scripts/ci-deps.sh [--no-models])" ;;
  esac
done

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

wanted=(libopenblas-dev zlib1g-dev pkg-config git ca-certificates)
if ! { command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; }; then
  wanted+=(python3 python3-pip)
fi

if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    say "system packages already installed: ${wanted[*]}"
  else
    if [[ $(id -u) -eq 0 ]]; then
      sudo=()
    elif command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      die "need root or sudo to install: ${missing[*]} (run as root, or: apt-get install -y ${missing[*]})"
    fi
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq || die "apt-get update failed (no network or apt sources broken?)"
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || die "apt-get install ${missing[*]} failed"
    say "installed: ${missing[*]}"
  fi
else
  say "no apt-get here; install these yourself (or the platform's equivalents): ${wanted[*]}"
fi

for pc in openblas zlib; do
  if command -v pkg-config >/dev/null 2>&1 && ! pkg-config --exists "$pc"; then
    say "warning: pkg-config does not know '$pc'; the Swift build may not find it"
  fi
done

if ((fetch_models)); then
  "$script_dir/fetch-model.sh" smollm2 >/dev/null
  "$script_dir/fetch-model.sh" gemma3 >/dev/null
  "$script_dir/fetch-model.sh" qwen2 >/dev/null
  say "models ready in $(cd "$script_dir/.." && pwd)/models"
fi
