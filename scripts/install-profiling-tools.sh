#!/usr/bin/env bash
# Installs the tools the profiles in docs/performance.md were taken with, on demand (not from CI):
# dotnet-trace, dotnet-counters and dotnet-gcdump as global .NET tools (into ~/.dotnet/tools),
# and linux perf and sockperf (scripts/frame-floor.sh) from the distribution when they are missing
# and apt-get is there (needs root).
# Usage: scripts/install-profiling-tools.sh   then: export PATH="$PATH:$HOME/.dotnet/tools"
# Versions are pinned so that two machines profile with the same tools.
set -euo pipefail
version=${PROFILING_TOOLS_VERSION:-10.0.750501}
for tool in dotnet-trace dotnet-counters dotnet-gcdump; do
  if dotnet tool list -g | grep -q "^$tool "; then
    dotnet tool update -g "$tool" --version "$version" >/dev/null
  else
    dotnet tool install -g "$tool" --version "$version" >/dev/null
  fi
  echo "$tool $version"
done
if ! command -v perf >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && (apt-get install -y -qq linux-perf || apt-get install -y -qq "linux-tools-$(uname -r)")
  else
    echo "perf is missing: install linux-perf (Debian) or linux-tools-\$(uname -r) (Ubuntu) as root" >&2
  fi
fi
command -v perf >/dev/null && perf --version
if ! command -v sockperf >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq sockperf >/dev/null || (apt-get update -qq && apt-get install -y -qq sockperf >/dev/null)
  else
    echo "sockperf is missing: install it (Debian: apt-get install sockperf) as root" >&2
  fi
fi
command -v sockperf >/dev/null && sockperf --version | head -n 1
# perf needs kernel.perf_event_paranoid <= 2 for a process of one's own (1 for kernel call stacks);
# hardware counters (perf stat -e instructions) are often absent in VMs: use cpu-clock sampling there.
echo "kernel.perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)"
