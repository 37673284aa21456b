#!/bin/sh
# The tests' second S3 server (besides moto): versitygw, a real S3 gateway that checks signatures and
# Content-MD5 and can give non-MD5 ETags. Built once with go into .tools/bin (gitignored); a few
# minutes on two cores. Prints the binary's path; exits 1 with the reason when it cannot be had.
#   sh scripts/versitygw.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
version=v1.8.0
bin="$root/.tools/bin/versitygw"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
if command -v versitygw >/dev/null 2>&1; then command -v versitygw; exit 0; fi
if command -v go >/dev/null 2>&1 && [ -x "$(go env GOPATH)/bin/versitygw" ]; then echo "$(go env GOPATH)/bin/versitygw"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  echo "versitygw is unavailable: go is not installed (https://go.dev/dl/), so it cannot be built" >&2
  exit 1
fi
echo "building versitygw $version into .tools/bin (once; a few minutes)" >&2
mkdir -p "$root/.tools/bin"
if ! GOBIN="$root/.tools/bin" go install "github.com/versity/versitygw/cmd/versitygw@$version" >&2; then
  echo "versitygw is unavailable: go install github.com/versity/versitygw/cmd/versitygw@$version failed" >&2
  exit 1
fi
echo "$bin"
