#!/usr/bin/env bash
# The per-message breakdown of docs/performance.md (issue 16): for each offered rate, runs
# `one-to-one --users USERS --rate R --duration DURATION --idle IDLE` against this checkout's
# Release server, with `perf stat` attached to the server for exactly the measured window (the
# bench's --profile-window), then `idle --conns IDLE_CONNS`; prints one markdown table of counts
# per delivered message (and per second idle): syscalls, the ones that matter by name, context
# switches, thread-pool work items, lock contentions, bytes allocated. Counts hold on a loaded
# machine where CPU time does not, so this is the table to compare builds and settings with.
# Usage: scripts/profile-counts.sh [RATE...]          (default: 1000 3000 10000; "none": the idle run only)
# Env: USERS (1000), DURATION (20), IDLE (5), IDLE_CONNS (1000; 0 skips), IDLE_DURATION (20),
#      OUT (folder for logs and perf files, default /tmp/parley-counts),
#      PARLEY_SERVER_DLL (a server build to run as it is; default: build this checkout's and copy it to OUT/server),
#      BENCH_ARGS (more bench options for every run, e.g. "--set Parley:Storage:Synchronous=Normal").
#      Server environment settings (DOTNET_...) pass through: the bench starts the server as its child.
# Needs perf with the syscalls tracepoints (scripts/install-profiling-tools.sh; root or
# kernel.perf_event_paranoid <= 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(1000 3000 10000)
[ "${rates[0]}" != none ] || rates=() # only the idle run
out=${OUT:-/tmp/parley-counts}
mkdir -p "$out"
dotnet build -c Release bench/Parley.Bench -nologo -v q >/dev/null
bench=bench/Parley.Bench/bin/Release/net10.0/Parley.Bench.dll
if [ -z "${PARLEY_SERVER_DLL:-}" ]; then
  dotnet build -c Release src/Parley.Server -nologo -v q >/dev/null
  # The server under test is a copy of this build, so that edits and builds during the runs do not change it.
  rm -rf "$out/server" && cp -r src/Parley.Server/bin/Release/net10.0 "$out/server"
  export PARLEY_SERVER_DLL="$out/server/Parley.Server.dll"
  git rev-parse --short HEAD >"$out/commit" 2>/dev/null || true
fi

# Socket writes are sendmsg/sendto/write/writev on the connections; reads recvmsg/recvfrom/read;
# futex is a thread hand-off or lock wait; epoll_wait the socket engine's wake-ups; pwrite64 and
# fdatasync/fsync the store; nanosleep the commit writer's batching sleeps; sched_yield spinning.
events=raw_syscalls:sys_enter,context-switches,cpu-migrations
for s in sendmsg sendto write writev recvmsg recvfrom read readv futex epoll_wait epoll_pwait pwrite64 pread64 fdatasync fsync clock_nanosleep nanosleep sched_yield; do
  events+=",syscalls:sys_enter_$s"
done
profile="perf stat -x, -e $events -p \$PARLEY_SERVER_PID -o $out/\$PARLEY_WINDOW.\$PARLEY_SERVER_PID.perf"

rows=()
for rate in "${rates[@]}"; do
  log="$out/one-to-one-$rate.log"
  # shellcheck disable=SC2086 # BENCH_ARGS is a list of options
  dotnet "$bench" one-to-one --users "${USERS:-1000}" --rate "$rate" --duration "${DURATION:-20}" --idle "${IDLE:-5}" \
    --profile-window "$profile" ${BENCH_ARGS:-} >"$log" 2>&1 || { echo "one-to-one at $rate failed: see $log" >&2; tail -5 "$log" >&2; continue; }
  pid=$(grep -oP '^server \S+ pid \K[0-9]+' "$log")
  rows+=("$rate|$log|$out/load.$pid.perf|$out/idle.$pid.perf")
done
if [ "${IDLE_CONNS:-1000}" -gt 0 ]; then
  log="$out/idle-${IDLE_CONNS:-1000}.log"
  # shellcheck disable=SC2086
  if dotnet "$bench" idle --conns "${IDLE_CONNS:-1000}" --duration "${IDLE_DURATION:-20}" --profile-window "$profile" ${BENCH_ARGS:-} >"$log" 2>&1; then
    pid=$(grep -oP '^server \S+ pid \K[0-9]+' "$log")
    rows+=("idle|$log|$out/idle.$pid.perf|")
  else
    echo "idle failed: see $log" >&2
  fi
fi

python3 - "${rows[@]}" <<'PY'
import re, sys

def perf(path):
    counts = {}
    try:
        for line in open(path):
            parts = line.strip().split(',')
            if len(parts) > 2 and parts[0].replace('.', '').isdigit():
                counts[parts[2].replace('syscalls:sys_enter_', '').replace('raw_syscalls:sys_enter', 'syscalls')] = float(parts[0])
    except OSError:
        pass
    return counts

def result(path):
    for line in open(path):
        if line.startswith('RESULT '):
            return {k: v for k, v in (f.split('=', 1) for f in line.split()[1:])}
    return {}

def ratio(items, sockets):
    # Hand-offs per socket syscall: the count that batching moves least (docs/performance.md).
    return '—' if items is None or sockets <= 0 else f'{float(items) / sockets:.2f}'

def f(x, digits=2):
    return '—' if x is None else f'{x:,.{digits}f}'

head = ('| offered | delivered msgs/s | server CPU µs/msg (net of idle) | syscalls | socket writes (sendmsg+sendto+write+writev) '
        '| socket reads | futex | epoll_wait | pwrite64 | fdatasync+fsync | nanosleep | sched_yield | context switches (perf) '
        '| thread-pool items | items per socket syscall | lock contentions | bytes allocated |')
print(head)
print('|' + ' --- |' * (head.count('|') - 1))
for row in sys.argv[1:]:
    rate, log, load, idle = row.split('|')
    r = result(log)
    if rate == 'idle':
        c, per, label = perf(load), float(r.get('settled_s', 0) or 0), f"idle, {r.get('conns', '?')} conns (per s)"
        cpu = f"{r.get('settled_cpu_pct', '?')}% of a core"
        delivered = '—'
        tp, lk, al = r.get('per_s_tp_items'), r.get('per_s_lock_contentions'), r.get('per_s_alloc_bytes')
    else:
        c, per, label = perf(load), float(r.get('delivered', 0) or 0), f'{rate} msgs/s (per msg)'
        cpu = f"{r.get('cpu_us_per_msg', '?')} ({r.get('cpu_us_per_msg_net_of_idle', '?')})"
        delivered = r.get('msgs_per_s', '?')
        tp, lk, al = r.get('per_msg_tp_items'), r.get('per_msg_lock_contentions'), r.get('per_msg_alloc_bytes')
    if per <= 0:
        print(f'| {label} | no result: see {log} |')
        continue
    g = lambda *names: sum(c.get(n, 0) for n in names) / per
    print(f"| {label} | {delivered} | {cpu} | {f(g('syscalls'))} | {f(g('sendmsg', 'sendto', 'write', 'writev'))} "
          f"| {f(g('recvmsg', 'recvfrom', 'read', 'readv'))} | {f(g('futex'))} | {f(g('epoll_wait', 'epoll_pwait'))} | {f(g('pwrite64'))} "
          f"| {f(g('fdatasync', 'fsync'), 3)} | {f(g('clock_nanosleep', 'nanosleep'))} | {f(g('sched_yield'))} | {f(g('context-switches'))} "
          f"| {tp or '—'} | {ratio(tp, g('sendmsg', 'sendto', 'write', 'writev', 'recvmsg', 'recvfrom', 'read', 'readv'))} | {lk or '—'} | {al or '—'} |")
    if rate != 'idle' and idle:
        ci, secs = perf(idle), float(r.get('idle_s', 0) or 0)
        if secs > 0:
            gi = lambda *names: sum(ci.get(n, 0) for n in names) / secs
            print(f"| same connections idle after it (per s) | — | {r.get('idle_cpu_pct', '?')}% of a core | {f(gi('syscalls'))} "
                  f"| {f(gi('sendmsg', 'sendto', 'write', 'writev'))} | {f(gi('recvmsg', 'recvfrom', 'read', 'readv'))} | {f(gi('futex'))} "
                  f"| {f(gi('epoll_wait', 'epoll_pwait'))} | {f(gi('pwrite64'))} | {f(gi('fdatasync', 'fsync'), 3)} | {f(gi('clock_nanosleep', 'nanosleep'))} "
                  f"| {f(gi('sched_yield'))} | {f(gi('context-switches'))} | {r.get('idle_per_s_tp_items', '—')} "
                  f"| {ratio(r.get('idle_per_s_tp_items'), gi('sendmsg', 'sendto', 'write', 'writev', 'recvmsg', 'recvfrom', 'read', 'readv'))} | {r.get('idle_per_s_lock_contentions', '—')} "
                  f"| {r.get('idle_per_s_alloc_bytes', '—')} |")
PY
echo "logs and perf counts: $out"
