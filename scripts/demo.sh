#!/bin/sh
# `npm run demo`: a throw-away lab, synced and checked end to end.
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-tools.sh demo
sh scripts/node-deps.sh
npx tsup --silent
exec node bin/labsync.js demo "$@"
