#!/bin/sh
# Per-shard throughput for N = 1, 2, 4 (bench/shards.ts): needs the test tools (moto, rsync, aws).
set -eu
cd "$(dirname "$0")/.."
PATH="${LABSYNC_TOOLS:-$PWD/.tools}/bin:$PATH"
export PATH
npx tsup --silent
npx tsup bench/shards.ts --format esm --platform node --target node20 --out-dir .bench/dist --silent
exec node .bench/dist/shards.js
