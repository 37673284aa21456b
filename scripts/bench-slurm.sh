#!/bin/sh
# sbatch submit → all shards done, and CPU per shard, on a one-node Slurm on 127.0.0.1 (bench/slurm.ts):
# needs slurm-wlm and munge (sh scripts/ensure-tools.sh test installs them as root).
set -eu
cd "$(dirname "$0")/.."
PATH="${LABSYNC_TOOLS:-$PWD/.tools}/bin:$PATH"
export PATH
npx tsup --silent
npx tsup bench/slurm.ts --format esm --platform node --target node20 --out-dir .bench/dist --silent
exec node .bench/dist/slurm.js
