#!/usr/bin/env bash
# What a wake-up and a loopback TCP frame cost on this machine with no Parley code at all: the
# floor under the server's CPU per message at everyday rates (docs/performance.md, "The floor
# under CPU per message"). Needs perf and sockperf (scripts/install-profiling-tools.sh installs
# both); run it on an otherwise idle machine.
#
#   scripts/frame-floor.sh            # RATES="1000 3000 10000" SECONDS_EACH=20 LOOPS=200000
set -euo pipefail
LOOPS=${LOOPS:-200000}
RATES=${RATES:-1000 3000 10000}
SECONDS_EACH=${SECONDS_EACH:-20}
PORT=${PORT:-11111}
TICKS=$(getconf CLK_TCK)

# utime + stime of a process, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

echo "== wake-ups: perf bench sched pipe, $LOOPS round trips (each: two pipe writes, two reads, two wake-ups)"
echo "-- both tasks on CPU 0 (a wake-up without an interrupt to another CPU)"
taskset -c 0 perf bench sched pipe -l "$LOOPS" | grep -E "usecs/op"
echo "-- tasks free to run on any CPU (as a server's threads are)"
perf bench sched pipe -l "$LOOPS" | grep -E "usecs/op"

echo "== loopback TCP ping-pong, 256-byte messages at a fixed rate: CPU of the epoll server per message"
echo "   (it sleeps in epoll_wait between messages, wakes, reads one frame and writes one back,"
echo "    as Parley's server does for each of a message's inbound and outbound frames)"
for rate in $RATES; do
  sockperf sr --tcp -i 127.0.0.1 -p "$PORT" > /dev/null 2>&1 &
  server=$!
  sleep 1
  before=$(cpu_ticks "$server")
  sockperf pp --tcp -i 127.0.0.1 -p "$PORT" -m 256 --mps "$rate" -t "$SECONDS_EACH" > /tmp/frame-floor-client.txt 2>&1
  after=$(cpu_ticks "$server")
  kill "$server"; wait "$server" 2> /dev/null || true
  sent=$(grep -oE 'SentMessages=[0-9]+' /tmp/frame-floor-client.txt | head -n 1 | cut -d= -f2)
  sent=${sent:-$((rate * SECONDS_EACH))}
  awk -v t=$((after - before)) -v hz="$TICKS" -v n="$sent" -v r="$rate" \
    'BEGIN { printf "rate %6d msgs/s: %d round trips, server CPU %.2f s, %.1f us per round trip (one frame in, one out)\n", r, n, t / hz, t / hz * 1e6 / n }'
  PORT=$((PORT + 1))
done
