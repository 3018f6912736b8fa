#!/usr/bin/env bash
# Profiles the server's CPU under one bench scenario with perf (JIT'd methods named through perf
# maps). Usage: bench/Parley.Bench/profile-server.sh SCENARIO [bench options...]
# Env: PROFILE_DELAY (s before recording, default 12: registration + connect + warm-up),
#      PROFILE_SECONDS (default 10), PROFILE_OUT (folder, default /tmp/parley-profile),
#      PROFILE_GC=1 to record allocations and GC pauses with dotnet-trace instead of perf
#      (scripts/install-profiling-tools.sh installs it), summarized by the bench's gc-report verb.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
scenario=$1; shift
out=${PROFILE_OUT:-/tmp/parley-profile}
mkdir -p "$out"
dotnet build -c Release src/Parley.Server -nologo -v q >/dev/null
dotnet build -c Release bench/Parley.Bench -nologo -v q >/dev/null

data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 \
  dotnet src/Parley.Server/bin/Release/net10.0/Parley.Server.dll --urls "http://127.0.0.1:$port" --data "$data" \
  --Parley:Limits:RegistrationsPerMinutePerAddress=100000000 --Parley:Limits:FramesPerSecond=1000000 \
  --Parley:Limits:FrameBurst=1000000 --Parley:Limits:MessagesPerSecondPerSender=100000000 --Parley:Limits:MessageBurstPerSender=100000000 \
  --Parley:Limits:MessagesPerSecondPerRecipient=100000000 --Parley:Limits:MessageBurstPerRecipient=100000000 \
  --Parley:Limits:NewContactsPerHour=100000000 --Parley:Limits:NewContactBurst=100000000 \
  --Parley:Limits:MaxQueuedEnvelopesPerDevice=100000000 --Parley:Limits:MaxQueuedBytesPerDevice=1000000000000 >"$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.2; done

dotnet bench/Parley.Bench/bin/Release/net10.0/Parley.Bench.dll "$scenario" --server "http://127.0.0.1:$port" --server-pid "$pid" "$@" >"$out/bench.log" 2>&1 &
bench=$!
sleep "${PROFILE_DELAY:-12}"
secs=${PROFILE_SECONDS:-10}
if [ "${PROFILE_GC:-0}" = 1 ]; then
  PATH="$PATH:$HOME/.dotnet/tools" dotnet-trace collect -p "$pid" --profile gc-verbose --duration "00:00:00:$(printf %02d "$secs")" -o "$out/gc.nettrace" >/dev/null
  wait $bench || true
  cat "$out/bench.log"
  rate=$(grep -oP 'msgs_per_s=\K[0-9]+' "$out/bench.log" || echo 0)
  dotnet bench/Parley.Bench/bin/Release/net10.0/Parley.Bench.dll gc-report "$out/gc.nettrace" 30 "$rate"
  exit 0
fi
# Per-thread CPU over the same window (utime+stime ticks from /proc), to see which thread saturates.
snapshot() { for t in /proc/"$pid"/task/*; do s=$(cat "$t/stat" 2>/dev/null) || continue; n=$(cat "$t/comm"); s=${s##*) }; set -- $s; echo "${t##*/} $(( ${12} + ${13} )) $n"; done; }
snapshot >"$out/threads.before"
perf stat -e syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,syscalls:sys_enter_pwrite64,syscalls:sys_enter_pread64,syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_futex \
  -p "$pid" -o "$out/syscalls.txt" -- sleep "$secs" &
stat=$!
perf record -F 999 -g -p "$pid" -o "$out/perf.data" -- sleep "$secs" 2>/dev/null
wait $stat
snapshot >"$out/threads.after"
awk -v secs="$secs" 'NR==FNR { before[$1]=$2; next } { d=$2-before[$1]; if (d>0) printf "%6.1f%% of a core  %s %s %s\n", d/secs, $3, $4, $5 }' \
  "$out/threads.before" "$out/threads.after" | sort -rn | head -12 >"$out/threads.txt"
wait $bench || true
cat "$out/bench.log"
set +e +o pipefail # the reports below cut perf's output short on purpose
perf report -i "$out/perf.data" --no-children -g none --sort dso,symbol 2>/dev/null | grep -v '^#' | grep -v '^$' | head -60 >"$out/self.txt"
perf report -i "$out/perf.data" --children -g none --sort symbol 2>/dev/null | grep -v '^#' | grep -v '^$' | head -120 >"$out/inclusive.txt"
perf report -i "$out/perf.data" --no-children -g none --sort comm,dso 2>/dev/null | grep -v '^#' | grep -v '^$' | head -20 >"$out/by-thread-dso.txt"
echo "== CPU by thread"; cat "$out/threads.txt"
echo "== samples by category"
perf script -i "$out/perf.data" -F comm,tid,ip,sym,dso 2>/dev/null | python3 "$root/bench/Parley.Bench/profile-summary.py" | tee "$out/summary.txt"
echo "== samples by thread and library"; cat "$out/by-thread-dso.txt"
echo "== syscalls in ${secs} s"; grep syscalls "$out/syscalls.txt" || true
echo "profile files: $out/self.txt (self time), $out/inclusive.txt (inclusive), perf.data"
