#!/usr/bin/env bash
# Regenerates experiments from scratch (an empty job store, so nothing is read from earlier runs)
# and checks them against the committed results/: perplexities with `streamppl compare` (0.5%),
# attention weights within 0.5% relative or 1e-6 absolute. Latency experiments are timings and are
# not compared.
#
# Usage: scripts/check-reproduction.sh [NAME...]      (default: fig3 fig2)
# Exit: 0 all within tolerance, 1 a difference or a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(fig3 fig2)

swift build -c release --product streamppl
streamppl=.build/release/streamppl
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Fields that parse as numbers must agree within the tolerance, all others exactly.
same_numbers() {
    awk -F, -v other="$2" '
        function isnum(s) { return s ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ }
        {
            if ((getline line < other) <= 0) { print FILENAME ": " other " is shorter"; bad = 1; exit }
            n = split(line, b, ",")
            if (n != NF) { print FILENAME ":" NR ": field count differs"; bad = 1; exit }
            for (i = 1; i <= NF; i++) {
                if (isnum($i) && isnum(b[i])) {
                    d = $i - b[i]; if (d < 0) d = -d
                    a = $i < 0 ? -$i : $i
                    if (d > 1e-6 + 0.005 * a) { print FILENAME ":" NR ": " $i " vs " b[i]; bad = 1 }
                } else if ($i != b[i]) { print FILENAME ":" NR ": " $i " vs " b[i]; bad = 1 }
            }
        }
        END {
            if (!bad && (getline line < other) > 0) { print other " is longer"; bad = 1 }
            exit bad
        }' "$1"
}

status=0
for name in "${names[@]}"; do
    if grep -q '"kind": *"latency"' "experiments/$name.json"; then
        echo "$name: latency timings, not compared"
        continue
    fi
    "$streamppl" reproduce "$name" --results "$scratch"
    committed=results/$name
    fresh=$scratch/$name
    if [ -f "$committed/summary.csv" ]; then
        "$streamppl" compare "$committed/summary.csv" "$fresh/summary.csv" || status=1
    fi
    for table in "$committed"/*.csv; do
        case $(basename "$table") in summary.csv | memory.csv) continue ;; esac
        if same_numbers "$table" "$fresh/$(basename "$table")"; then
            echo "$name: $(basename "$table") within 0.5%"
        else
            status=1
        fi
    done
done
exit $status
