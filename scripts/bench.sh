#!/bin/sh
# `npm run bench`: build, then time labsync against sha256sum, md5sum, rclone check and rsync -rn, and its
# pushes against rsync, aws and rclone on a loopback sshd and moto (hence the test tools).
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-tools.sh test
# The Python tools ensure-tools put in their own venvs (dvc, …) come first on the PATH labsync uses.
PATH="${LABSYNC_TOOLS:-$PWD/.tools}/bin:$PATH"
export PATH
sh scripts/node-deps.sh
npx tsup --silent
node scripts/build-script.mjs
npx tsup bench/bench.ts --format esm --platform node --target node20 --out-dir .bench/dist --silent
exec node .bench/dist/bench.js
