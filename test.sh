#!/usr/bin/env bash
# Runs every Parley test suite — the xunit projects of Parley.slnx and the libsignal interop
# suite — and ends with one line "N passed, N failed" summing them all.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

passed=0
failed=0
status=0
log=$(mktemp)

echo "== build"
if ! dotnet build Parley.slnx -c Release --nologo -v quiet -clp:ErrorsOnly; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

echo "== xunit"
# One test project at a time: they start real servers, and the machine may have two cores.
dotnet test Parley.slnx -c Release --no-build --nologo -m:1 -- RunConfiguration.TestSessionTimeout=2400000 2>&1 | tee "$log" || status=1
while read -r p f; do
  passed=$((passed + p)); failed=$((failed + f))
done < <(sed -nE 's/.*(Passed|Failed)!.*Failed: *([0-9]+), Passed: *([0-9]+).*/\3 \2/p' "$log")
if [ "$status" -ne 0 ] && ! grep -qE '(Passed|Failed)!' "$log"; then
  failed=$((failed + 1))
fi

echo "== interop (libsignal)"
if bash tests/interop/run.sh 2>&1 | tee "$log"; then :; else status=1; fi
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
if [ -n "$line" ]; then
  passed=$((passed + $(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')))
  failed=$((failed + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
else
  failed=$((failed + 1))
fi
rm -f "$log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
