#!/usr/bin/env bash
# Runs the one-to-one scenario against this checkout's Release server and prints the size of the
# server's data folder (parley.db + WAL) and its tables' row counts every SAMPLE seconds, to see
# whether storage levels off; at the end, the bytes and write calls the server made.
# Usage: scripts/soak-db-size.sh [bench options...]   (e.g. --rate 5000 --duration 120)
# Env: SAMPLE (s, default 10), SERVER_ROOT (a checkout whose Release server to run; default this one),
#      KEEP=1 to keep the data folder for a look afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
server_root=${SERVER_ROOT:-$root}
dotnet build -c Release "$server_root/src/Parley.Server" -nologo -v q >/dev/null
dotnet build -c Release "$root/bench/Parley.Bench" -nologo -v q >/dev/null
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dotnet "$server_root/src/Parley.Server/bin/Release/net10.0/Parley.Server.dll" --urls "http://127.0.0.1:$port" --data "$data" \
  --Parley:Limits:RegistrationsPerMinutePerAddress=100000000 --Parley:Limits:FramesPerSecond=1000000 --Parley:Limits:FrameBurst=1000000 \
  --Parley:Limits:MessagesPerSecondPerSender=100000000 --Parley:Limits:MessageBurstPerSender=100000000 \
  --Parley:Limits:MessagesPerSecondPerRecipient=100000000 --Parley:Limits:MessageBurstPerRecipient=100000000 \
  --Parley:Limits:NewContactsPerHour=100000000 --Parley:Limits:NewContactBurst=100000000 --Parley:Limits:MaxUnauthenticatedPerAddress=1000000 \
  --Parley:Limits:MaxQueuedEnvelopesPerDevice=100000000 --Parley:Limits:MaxQueuedBytesPerDevice=1000000000000 >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "data kept in $data" || rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v1/health" >/dev/null && break; sleep 0.2; done
dotnet "$root/bench/Parley.Bench/bin/Release/net10.0/Parley.Bench.dll" one-to-one --server "http://127.0.0.1:$port" --server-pid "$pid" "$@" >"$data.bench.log" 2>&1 &
bench=$!
io0=$(cat /proc/$pid/io)
start=$(date +%s)
while kill -0 $bench 2>/dev/null; do
  db=$(stat -c %s "$data/parley.db" 2>/dev/null || echo 0); wal=$(stat -c %s "$data/parley.db-wal" 2>/dev/null || echo 0)
  rows=$(python3 - "$data/parley.db" <<'PY' 2>/dev/null || echo '?'
import sqlite3, sys
c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True, timeout=5)
def rows(t):
    try: return str(c.execute('select count(*) from ' + t).fetchone()[0])
    except sqlite3.Error: return '-'
print(' '.join(t + '_rows=' + rows(t) for t in ('dedup', 'queue', 'envelopes', 'contact_edges', 'contacts')), 'free_pages=' + str(c.execute('pragma freelist_count').fetchone()[0]))
PY
)
  echo "t=$(( $(date +%s) - start ))s db_bytes=$db wal_bytes=$wal $rows"
  sleep "${SAMPLE:-10}"
done
wait $bench || true
# What the server wrote over the run (warm-up included): bytes through write calls, and their number.
paste <(echo "$io0") /proc/$pid/io | awk '$1 ~ /^(wchar|syscw|write_bytes):$/ {print "server", $1, $4 - $2}'
grep -E "RESULT|delivered|after stop|errors" "$data.bench.log"
rm -f "$data.bench.log"
