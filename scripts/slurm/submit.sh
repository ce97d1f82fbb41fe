#!/bin/bash
# Submits shards.sbatch from the current folder (which holds run.toml), then the merge of its shards as a job that
# starts once every shard has succeeded. Prints the two job ids.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards=$(sbatch --parsable "$here/shards.sbatch")
merge=$(sbatch --parsable --job-name=streamppl-merge --output=slurm-%j.out --dependency=afterok:"$shards" \
  --wrap "streamppl merge out/shard-0 out/shard-1 out/shard-2 --out out/merged")
echo "$shards $merge"
