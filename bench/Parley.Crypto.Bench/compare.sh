#!/usr/bin/env bash
# Runs the Parley.Crypto benchmarks (BenchmarkDotNet, short job) and the same operations with
# libsignal through node (tests/interop's pinned packages) in the same run, then prints a table
# with the ratio. Extra arguments go to BenchmarkDotNet (e.g. --filter '*Session*').
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -d ../../tests/interop/node_modules ]; then
  (cd ../../tests/interop && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

artifacts="$(mktemp -d)"
trap 'rm -rf "$artifacts"' EXIT
dotnet run -c Release -- --filter '*' --job short --exporters json --artifacts "$artifacts" "$@" >"$artifacts/bdn.log" 2>&1 \
  || { tail -40 "$artifacts/bdn.log"; exit 1; }
node libsignal-bench.js >"$artifacts/libsignal.json"
node compare.js "$artifacts" "$artifacts/libsignal.json"
