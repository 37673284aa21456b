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
# Every temp folder the tests make (a lab per test, the servers' state) goes under one folder for the
# run: removed when the run passes, kept and named when it fails, so a run never leaves /tmp fuller.
base_tmp=${TMPDIR:-/tmp}
run_tmp=$(mktemp -d "$base_tmp/labsync-tests.XXXXXX")
# Readable by all, as /tmp is: a test runs a script as another user (ensure-tools.test.ts).
chmod 755 "$run_tmp"
trap 'rm -rf "$run_tmp"; exit 130' INT TERM
TMPDIR=$run_tmp
LABSYNC_TEST_TMP=$run_tmp
export TMPDIR LABSYNC_TEST_TMP
results=.vitest-results.json
rm -f "$results"
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$results" "$@" || status=$?
# The rclone suites once more with the current rclone ensure-tools installed beside Debian's 1.60
# (what a user with rclone ≥ 1.66 gets: conflict policies, recovery). Only the cases that drive
# rclone: -t rclone matches their describe/test names. Skipped when arguments pick other tests.
current=${LABSYNC_TOOLS:-$PWD/.tools}/bin/rclone-current
if [ $# -eq 0 ] && [ -x "$current" ]; then
  second=.vitest-results-rclone-current.json
  rm -f "$second"
  echo "rclone suites again with $("$current" version | head -1) (LABSYNC_RCLONE=$current)"
  LABSYNC_RCLONE=$current npx vitest run --reporter=default --reporter=json --outputFile="$second" -t rclone \
    test/rclone.test.ts test/bisync-current.test.ts test/conformance.test.ts test/faults.test.ts test/faults-versitygw.test.ts || status=$?
fi
# One plain closing line, the form any CI log reader understands.
[ -f "$results" ] && node -e '
  const fs = require("node:fs");
  const runs = process.argv.slice(1).filter((f) => fs.existsSync(f)).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
  const sum = (k) => runs.reduce((n, r) => n + r[k], 0);
  // Skipped counts the first run only: the second leaves out every case -t rclone does not name.
  const skipped = runs[0].numPendingTests + runs[0].numTodoTests;
  console.log(`Tests: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed${skipped ? `, ${skipped} skipped` : ""}`);
' "$results" "${second:-}"
if [ "$status" -eq 0 ] && [ -z "${LABSYNC_KEEP_TMP:-}" ]; then rm -rf "$run_tmp"
else echo "temp files of this run kept in $run_tmp (remove it when done)"; fi
exit "$status"
