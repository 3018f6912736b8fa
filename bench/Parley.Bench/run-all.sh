#!/usr/bin/env bash
# Runs the full set of load scenarios one after another (about 10 minutes) and prints every
# table plus the RESULT lines. Usage: bench/Parley.Bench/run-all.sh [output file]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=${1:-/dev/stdout}
dotnet build -c Release src/Parley.Server -nologo -v q >/dev/null
dotnet build -c Release bench/Parley.Bench -nologo -v q >/dev/null
bench() { echo "\$ dotnet run -c Release --project bench/Parley.Bench -- $*"; dotnet bench/Parley.Bench/bin/Release/net10.0/Parley.Bench.dll "$@" 2>&1 | grep -v '^ \+[0-9]\+s open='; echo; }
{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -h | awk '/Mem:/ {print $2}') memory; $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  bench one-to-one --duration 20
  bench one-to-one --duration 20 --rate 10000
  bench one-to-one --duration 20 --rate 5000
  bench one-to-one --duration 20 --rate 2000
  bench offline-drain
  bench connections --duration 15
} >"$out"
