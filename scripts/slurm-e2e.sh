#!/usr/bin/env bash
# End-to-end check of the README's Slurm recipe (scripts/slurm/shards.sbatch and scripts/slurm/submit.sh, submitted
# unchanged) on a one-node cluster started here for the purpose and stopped again:
#
#   1. installs slurm-wlm and munge if missing (apt, as root), builds streamppl (release) and fetches the default model;
#   2. writes a throwaway munge key and slurm.conf (this host, its real CPU count, loopback, everything under one
#      temporary folder) and starts munged, slurmctld and slurmd by hand (no systemd);
#   3. runs run.toml (3 configs x 2 datasets) once in a single process, then as the array of 3 shards plus the dependent
#      merge job, and checks that the merged folder equals the single run: nll.csv.gz decompressed byte for byte,
#      summary.csv and summary.md without the timing columns;
#   4. submits again, requeues array task 0 (`scontrol requeue`) once it has written a checkpoint, and checks that the
#      rerun task says it resumed from that checkpoint and that the merged folder still equals the single run.
#
# On exit, whatever happened, it cancels its jobs and stops exactly the daemons it started (by their pid files), then
# removes the temporary folder (kept with --keep). Every wait is bounded (SLURM_E2E_TIMEOUT seconds each, default 300).
# A requeued job waits out the credential lifetime before it starts again (120 s by default): cred_expire=10 here.
#
# Usage: scripts/slurm-e2e.sh [--keep]   (as root, or through sudo)
set -euo pipefail

prog=slurm-e2e
say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }

keep=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument '$arg' (usage: scripts/slurm-e2e.sh [--keep])" ;;
  esac
done
if [[ $(id -u) -ne 0 ]]; then
  # It installs packages and starts munged, slurmctld and slurmd as root.
  command -v sudo >/dev/null 2>&1 || die "must run as root (or with sudo): it installs packages and starts munged, slurmctld and slurmd"
  exec sudo --preserve-env=PATH,HOME,SLURM_E2E_TIMEOUT bash "$0" "$@"
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
timeout=${SLURM_E2E_TIMEOUT:-300}
started=$SECONDS

missing=()
for p in slurm-wlm munge; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
fi
(cd "$repo" && swift build -c release >/dev/null) || die "swift build -c release failed"
model="$repo/models/SmolLM2-135M-Instruct.Q4_1.gguf"
[[ -f $model ]] || "$repo/scripts/fetch-model.sh" smollm2 || die "cannot fetch the default model"
export PATH="$repo/.build/release:$PATH"   # sbatch passes the environment on to the jobs

tmp=$(mktemp -d /tmp/slurm-e2e.XXXXXX)
export SLURM_CONF="$tmp/slurm.conf"
cleanup() {
  local status=$?
  scancel --quiet --user=root 2>/dev/null || true
  for daemon in slurmd slurmctld munged; do
    [[ -s $tmp/$daemon.pid ]] && kill "$(cat "$tmp/$daemon.pid")" 2>/dev/null || true
  done
  for daemon in slurmd slurmctld munged; do
    for _ in $(seq 50); do
      [[ -s $tmp/$daemon.pid ]] && kill -0 "$(cat "$tmp/$daemon.pid")" 2>/dev/null || break
      sleep 0.1
    done
  done
  if ((keep)); then say "kept $tmp"; else rm -rf "$tmp"; fi
  ((status == 0)) || say "FAILED after $((SECONDS - started)) s"
  exit $status
}
trap cleanup EXIT

# --- the cluster -------------------------------------------------------------------------------------------------------
host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/work"
head -c 1024 /dev/urandom > "$tmp/munge.key"
chmod 600 "$tmp/munge.key"
munged --force --key-file="$tmp/munge.key" --socket="$tmp/munge.socket" --pid-file="$tmp/munged.pid" \
  --log-file="$tmp/munged.log" --seed-file="$tmp/munged.seed" || die "munged did not start ($tmp/munged.log)"
cat > "$SLURM_CONF" <<EOF
ClusterName=streamppl-e2e
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge.socket,cred_expire=10
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobRequeue=1
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=e2e Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -c || die "slurmctld did not start ($tmp/slurmctld.log)"
slurmd || die "slurmd did not start ($tmp/slurmd.log)"

# Polls `condition` (a command) every half second until it succeeds, for at most $timeout seconds.
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out after $timeout s waiting for $what"
    sleep 0.5
  done
}
node_idle() { [[ $(sinfo -h -n "$host" -o %t 2>/dev/null) == idle ]]; }
wait_for "the node to be idle" node_idle
say "cluster up: $host, $cpus CPUs ($((SECONDS - started)) s)"

# --- the run -----------------------------------------------------------------------------------------------------------
cd "$tmp/work"
cat > run.toml <<EOF
model = "$model"
data = ["$repo/datasets/pg19-shakespeare", "$repo/datasets/pg19-milton"]
cache = ["4+252", "0+256", "dense"]
max-tokens = 600
chunk-size = 128
checkpoint-interval = 0
EOF
streamppl run --config run.toml --out single 2>single.log || die "the single-process run failed (single.log)"

job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1; }
finished() { [[ $(job_state "$1") =~ ^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)$ ]]; }

# The merged folder against the single run: the per-token log decompressed, the summaries without timing columns.
without_timing() {
  python3 - "$1" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
keep = [i for i, name in enumerate(rows[0]) if name not in ("tokens_per_second", "peak_rss_mb")]
for row in rows:
    print(",".join(row[i] for i in keep))
PY
}
check_merged() {
  local round=$1
  [[ $(job_state "$merge") == COMPLETED ]] || die "$round: the merge job ended $(job_state "$merge") (slurm-$merge.out)"
  cmp -s <(gzip -dc single/nll.csv.gz) <(gzip -dc out/merged/nll.csv.gz) || die "$round: nll.csv.gz differs from the single run"
  cmp -s <(without_timing single/summary.csv) <(without_timing out/merged/summary.csv) \
    || die "$round: summary.csv differs from the single run"
  grep -q '"complete" : true' out/merged/run.json || die "$round: out/merged/run.json is not complete"
  say "$round: merged folder equals the single run ($((SECONDS - started)) s)"
}

read -r shards merge < <("$repo/scripts/slurm/submit.sh")
say "round 1: array $shards, merge $merge"
wait_for "merge job $merge" finished "$merge"
check_merged "round 1"

rm -rf out slurm-*.out
read -r shards merge < <("$repo/scripts/slurm/submit.sh")
say "round 2: array $shards, merge $merge; task 0 is requeued after its first checkpoint"
checkpointed() { compgen -G "out/shard-0/.streamppl/job-*/checkpoint" >/dev/null; }
wait_for "a checkpoint of task ${shards}_0" checkpointed
scontrol requeue "${shards}_0" || die "scontrol requeue ${shards}_0 failed"
wait_for "merge job $merge" finished "$merge"
grep -q "resuming from its checkpoint" "slurm-${shards}_0.out" \
  || die "round 2: the requeued task did not resume from its checkpoint (slurm-${shards}_0.out)"
grep -q "Restarts=[1-9]" <(scontrol show job "${shards}_0") || die "round 2: task ${shards}_0 was not requeued"
check_merged "round 2"
say "passed in $((SECONDS - started)) s"
