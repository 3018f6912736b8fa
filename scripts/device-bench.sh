#!/usr/bin/env bash
# Runs the benches on a machine without the .NET SDK, pinned to two cores (taskset), as on the 2-core VM.
# Prepare, in the repository root after a Release build:
#   mkdir -p .devbundle && (cd /usr/share/dotnet && tar -cJf - dotnet host shared) > .devbundle/dotnet-rt.tar.xz
#   tar -cJf .devbundle/bins.tar.xz src/Parley.Server/bin/Release bench/Parley.Bench/bin/Release
# then copy the tree (with .devbundle) to the machine and run: bash scripts/device-bench.sh (OUT=folder for the full log).
set -u
cd "$(dirname "$0")/.."
mkdir -p /opt/dotnet && tar -xJf .devbundle/dotnet-rt.tar.xz -C /opt/dotnet
tar -xJf .devbundle/bins.tar.xz -C .
find src/Parley.Server/bin bench/Parley.Bench/bin -exec touch {} +
export PATH=/opt/dotnet:$PATH DOTNET_ROOT=/opt/dotnet DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
ulimit -n 20000
echo "nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo); ulimit -n $(ulimit -n); date -u"
B="taskset -c 0,1 dotnet bench/Parley.Bench/bin/Release/net10.0/Parley.Bench.dll"
run() { echo "=== $* ($(date -u +%T))"; timeout 150 $B "$@" 2>&1 | tee -a "${OUT:-.}/full.log" | grep -E 'RESULT|rror|fail|Unhandled' | head -20; }
for i in 1 2 3; do
  run one-to-one --duration 10 --users 1000
  run one-to-one --duration 10 --users 1000 --set Parley:StandardWebSockets=true
done
run one-to-one --duration 10 --users 1000 --set Parley:Storage:SecureDelete=false
run one-to-one --duration 10 --rate 10000
run offline-drain
run one-to-one --duration 10 --users 1000 --set Parley:Storage:SecureDelete=false
run connections --duration 15
run media --files 4 --size-mib 100
echo "=== done $(date -u +%T)"
