#!/usr/bin/env bash
# Build the libFuzzer targets of Fuzz/ (with AddressSanitizer) and run them over the seed corpus.
#
# Usage: scripts/fuzz.sh [gguf|settings|all] [--seconds N | --runs N] [--no-build] [-- LIBFUZZER-FLAG...]
#   gguf      Fuzz/Sources/FuzzGGUF: bytes as a GGUF file, then model config, tokenizer, a tokenize/decode
#   settings  Fuzz/Sources/FuzzSettings: a run configuration file (TOML or JSON) or an experiment file
#   all       both, one after the other (default); --seconds/--runs apply to each
#   --seconds N   run each target for N seconds (default 60)
#   --runs N      run each target for N executions instead
#   --no-build    use the fuzzers already built
#   -- FLAGS      passed on to libFuzzer, e.g. -- -detect_leaks=0
#
# The corpus (Fuzz/Corpus/TARGET) is copied to a scratch folder, Fuzz/.build/fuzz-runs/TARGET-TIME/, so the
# repository's corpus is never modified; new inputs and any crash land there. Prints one summary line per target
# (executions, exec/s, coverage, crashes) and a last "fuzz: ..." line; exits 1 on a crash, a timeout (a hang:
# one input over 10 s) or running out of memory (over the RSS limit), printing the path of the input that did it;
# exits 130 when stopped by Ctrl-C or SIGTERM, after the summary.
set -euo pipefail
cd "$(dirname "$0")/.."

prog=fuzz
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 2; }

which=all seconds=60 runs="" build=1 extra=()
while (($#)); do
    case "$1" in
        gguf | settings | all) which=$1 ;;
        --seconds) seconds=${2:?--seconds needs a number}; runs=""; shift ;;
        --runs) runs=${2:?--runs needs a number}; shift ;;
        --no-build) build=0 ;;
        --) shift; extra=("$@"); break ;;
        -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
    shift
done
[[ $seconds =~ ^[0-9]+$ && ( -z $runs || $runs =~ ^[0-9]+$ ) ]] || die "--seconds and --runs take a whole number"

# Release build of everything (the StreamPPL library included: -sanitize=... reaches dependencies), with
# -O last so that it replaces the library's -Ounchecked: overflow and bounds checks stay on while fuzzing.
flags=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -O)
if ((build)); then
    start=$SECONDS
    (cd Fuzz && swift build "${flags[@]}" 2>&1 | grep -v "Cannot export local symbol") || die "the fuzz build failed"
    echo "fuzz: build finished in $((SECONDS - start)) s"
fi
bin=$(cd Fuzz && swift build "${flags[@]}" --show-bin-path)

# Per target: binary, corpus folder, longest input (GGUF seeds are up to ~24 KB; settings files are short).
declare -A binary=([gguf]=FuzzGGUF [settings]=FuzzSettings)
declare -A maxlen=([gguf]=32768 [settings]=4096)
targets=(gguf settings)
[[ $which == all ]] || targets=("$which")

failed=0 interrupted=0 summary=()
for target in "${targets[@]}"; do
    work="Fuzz/.build/fuzz-runs/$target-$(date -u +%Y%m%dT%H%M%S)"
    mkdir -p "$work/corpus" "$work/crashes"
    cp Fuzz/Corpus/"$target"/* "$work/corpus/"
    limit=(-max_total_time="$seconds")
    [[ -z $runs ]] || limit=(-runs="$runs")
    start=$SECONDS status=0
    # 4 GiB per process is far above what any input needs and leaves room on a 24 GiB machine for other work;
    # -malloc_limit_mb (the same by default) makes a single huge allocation from a corrupt length a finding.
    # Leaks are findings too, but for one in Foundation itself (Fuzz/lsan.supp).
    LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
        "$bin/${binary[$target]}" "${limit[@]}" -max_len="${maxlen[$target]}" -rss_limit_mb=4096 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$work/crashes/" "${extra[@]}" "$work/corpus" > "$work/log.txt" 2>&1 || status=$?
    elapsed=$((SECONDS - start))
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log.txt")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log.txt")
    coverage=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/log.txt" | tail -1 || true)
    found=$(find "$work/crashes" -type f | wc -l)
    line="$target: ${executions:-?} executions in ${elapsed} s (${rate:-?} exec/s), ${coverage:-cov: ?}, corpus $(ls "$work/corpus" | wc -l) files, $found crashes"
    # libFuzzer exits 72 when stopped by SIGINT/SIGTERM, after printing its statistics.
    if ((status == 72 && found == 0)); then
        interrupted=1 status=0 line+=" (interrupted)"
    fi
    echo "fuzz: $line"
    summary+=("$line")
    if ((status != 0 || found > 0)); then
        failed=1
        grep -m1 -E 'ERROR: (AddressSanitizer|libFuzzer)|Fatal error|deadly signal|SUMMARY' "$work/log.txt" >&2 || true
        for input in "$work/crashes"/*; do [[ -e $input ]] && echo "fuzz: $target: failing input kept at $input (log: $work/log.txt)" >&2; done
        ((found > 0)) || echo "fuzz: $target: the fuzzer exited with status $status (log: $work/log.txt)" >&2
    fi
done
if ((failed)); then
    echo "fuzz: FAILED: $(IFS=';'; echo "${summary[*]}")"
    exit 1
fi
if ((interrupted)); then
    echo "fuzz: interrupted, 0 crashes so far: $(IFS=';'; echo "${summary[*]}")"
    exit 130
fi
echo "fuzz: ok, 0 crashes: $(IFS=';'; echo "${summary[*]}")"
