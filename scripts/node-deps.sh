#!/bin/sh
# npm ci when node_modules is missing or older than package-lock.json.
set -eu
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # A node_modules that is a link belongs to another checkout (a git worktree sharing one install):
  # npm ci would empty it under that checkout too.
  if [ -L node_modules ]; then
    echo "node_modules is a link to $(readlink node_modules), older than package-lock.json: run npm ci there" >&2
    exit 1
  fi
  npm ci --no-audit --no-fund
fi
