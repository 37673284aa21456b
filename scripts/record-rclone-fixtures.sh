#!/bin/sh
# Records the rclone output the classifier's unit tests read, from a real rclone binary:
#   sh scripts/record-rclone-fixtures.sh /usr/bin/rclone            → fixtures/tool-output/rclone-1.60.1/
#   sh scripts/record-rclone-fixtures.sh .tools/bin/rclone-current  → fixtures/tool-output/rclone-1.75.2/
# Each case's stderr goes to <case>.stderr, its exit code into exit-codes.json. Loopback only: the
# "refused" case asks 127.0.0.1:1. No config file is read or made (RCLONE_CONFIG=/dev/null).
set -eu
rclone=$(command -v "${1:?usage: record-rclone-fixtures.sh RCLONE_BINARY}")
case $rclone in /*) ;; *) rclone=$PWD/$rclone ;; esac
repo=$(cd "$(dirname "$0")/.." && pwd)
version=$("$rclone" version | sed -n '1s/^rclone v\([0-9.]*\).*/\1/p')
out=$repo/fixtures/tool-output/rclone-$version
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export RCLONE_CONFIG=/dev/null
unset AWS_CA_BUNDLE
modern=$(echo "$version" | awk -F. '{ print ($1 > 1 || $2 >= 66) ? 1 : 0 }')
codes=""
record() { # case-name command...
  name=$1
  shift
  code=0
  "$@" --use-json-log >/dev/null 2>"$out/$name.stderr" || code=$?
  codes="$codes${codes:+,}\"$name\":$code"
}
cd "$tmp"
record usage-error "$rclone" copy --no-such-flag a b
record missing-source "$rclone" copy "$tmp/absent" "$tmp/dst"
RCLONE_CONFIG_DOWN_TYPE=s3 RCLONE_CONFIG_DOWN_PROVIDER=Other RCLONE_CONFIG_DOWN_ENDPOINT=http://127.0.0.1:1 \
  RCLONE_CONFIG_DOWN_ACCESS_KEY_ID=k RCLONE_CONFIG_DOWN_SECRET_ACCESS_KEY=s \
  record refused "$rclone" lsjson down:bucket --retries 1 --low-level-retries 1 --contimeout 2s
mkdir -p p1 p2 wd
for f in a b c d e; do echo "$f" > "p1/$f"; done
record bisync-needs-resync "$rclone" bisync p1 p2 --workdir wd
# What labsync passes a current rclone: --resilient calls the same stop "retryable".
[ "$modern" = 1 ] && record bisync-first-run-resilient "$rclone" bisync p1 p2 --workdir wd --resilient --recover --max-lock 5m
"$rclone" bisync p1 p2 --workdir wd --resync >/dev/null 2>&1
echo local > p1/c
echo remote-longer > p2/c
record bisync-dry-run-conflict "$rclone" bisync p1 p2 --workdir wd --dry-run
record bisync-conflict "$rclone" bisync p1 p2 --workdir wd
if [ "$modern" = 1 ]; then
  echo local > p1/d
  touch -d '2020-01-01' p1/d
  echo remote-newer > p2/d
  record bisync-conflict-newer "$rclone" bisync p1 p2 --workdir wd --conflict-resolve newer --conflict-loser num
fi
find p1 -type f ! -name 'c*' -delete
record bisync-too-many-deletes "$rclone" bisync p1 p2 --workdir wd
lock=$(ls wd | grep '\.path1\.lst' | head -1 | sed 's/\.path1\.lst.*$/.lck/')
echo 999999 > "wd/$lock"
record bisync-locked "$rclone" bisync p1 p2 --workdir wd
# Timestamps and this run's temp folder are noise in a fixture.
for f in "$out"/*.stderr; do sed -i "s#$tmp#/tmp/fixture#g" "$f"; done
echo "{$codes}" > "$out/exit-codes.json"
echo "recorded rclone $version into $out: {$codes}"
