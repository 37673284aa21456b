#!/bin/sh
# `npm run demo`: a throw-away lab, synced and checked end to end.
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-tools.sh demo
# The Python tools ensure-tools put in their own venvs (dvc, …) come first on the PATH labsync uses.
PATH="${LABSYNC_TOOLS:-$PWD/.tools}/bin:$PATH"
export PATH
sh scripts/node-deps.sh
npx tsup --silent
node scripts/build-script.mjs
exec node bin/labsync.js demo "$@"
