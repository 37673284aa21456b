#!/bin/sh
# One standalone bench (not in `npm run bench`): sh scripts/bench-one.sh NAME [ARGS...] builds
# bench/NAME.ts and runs it with the test tools on the PATH. NAME: shards (per-shard cost; moto, rsync,
# aws), slurm (an sbatch array on a one-node Slurm; slurm-wlm and munge), remote-lock (the lock's cost
# per run; moto, sshd), scale-listing (the "Scale on paper" listing figures; TREE as argument).
set -eu
cd "$(dirname "$0")/.."
name=${1:?usage: sh scripts/bench-one.sh shards|slurm|remote-lock|scale-listing [ARGS...]}
shift
[ -f "bench/$name.ts" ] || { echo "no bench/$name.ts" >&2; exit 2; }
PATH="${LABSYNC_TOOLS:-$PWD/.tools}/bin:$PATH"
export PATH
npx tsup --silent
node scripts/build-script.mjs
npx tsup "bench/$name.ts" --format esm --platform node --target node20 --out-dir .bench/dist --silent
exec node ".bench/dist/$name.js" "$@"
