#!/bin/sh
# `npm test`: install what is missing, type-check, then every test (unit + real tools on loopback).
set -eu
cd "$(dirname "$0")/.."
sh scripts/ensure-tools.sh test
# The Python tools ensure-tools put in their own venvs (dvc, …) come first on the PATH labsync uses.
PATH="${LABSYNC_TOOLS:-$PWD/.tools}/bin:$PATH"
export PATH
sh scripts/node-deps.sh
npx tsc --noEmit
results=.vitest-results.json
rm -f "$results"
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$results" "$@" || status=$?
# One plain closing line, the form any CI log reader understands.
[ -f "$results" ] && node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`);
' "$results"
exit "$status"
