#!/usr/bin/env bash
# Idle connections: how much memory rampart (1 worker) spends per idle keep-alive client
# connection. In front of the nginx upstream of proxy.sh, it reads the server's VmRSS, opens
# 10,000 keep-alive connections with hold-connections (one small request on each, answer read),
# holds them idle, reads VmRSS again, and reports KiB per connection; hold-connections then
# confirms that every connection is still open and still answers. nginx (proxy, 1 worker) and
# HAProxy (1 thread) get the same treatment for reference.
#
# Knobs: IDLE_CONNECTIONS (10000), IDLE_HOLD_SECONDS (5), IDLE_PEERS (1: also nginx and
# HAProxy; 0: rampart only), RAMPART_BIN (build/rampart), HOLD_CONNECTIONS_BIN
# (build/bench/hold-connections), BENCH_RESULTS (bench/results), BENCH_KEEP_WORK=1.
# Exits non-zero if a server lost or refused a connection, or rampart's binary is missing
# (after measuring the others).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

count=${IDLE_CONNECTIONS:-10000}
hold=${IDLE_HOLD_SECONDS:-5}
peers=${IDLE_PEERS:-1}
rampart_bin=${RAMPART_BIN:-build/rampart}
hold_bin=${HOLD_CONNECTIONS_BIN:-build/bench/hold-connections}
results_root=${BENCH_RESULTS:-bench/results}

if [ "$hold" -lt 3 ]; then
  echo "bench: IDLE_HOLD_SECONDS must be at least 3 (RSS is read 1 s into the hold)" >&2
  exit 2
fi
[ -x "$hold_bin" ] || {
  echo "bench: $hold_bin is missing; run 'make build' (target hold-connections)" >&2
  exit 1
}
for tool in nginx haproxy curl; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool is missing; run scripts/install-deps.sh" >&2
    exit 1
  }
done

# The client and each server hold `count` descriptors, the servers a few more upstream.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((count + 200)) ]; then
  echo "bench: $count connections need ulimit -n >= $((count + 200)); the limit is $(ulimit -n)" >&2
  exit 1
fi
export BENCH_NGINX_CONNECTIONS=$((count + 1000))
export BENCH_HAPROXY_MAXCONN=$((count + 100))

stamp=$(date +%Y%m%d-%H%M%S)
results=$results_root/idle-$stamp
mkdir -p "$results"
bench_init

failed=0
row() {
  printf '%-12s %12s %12s %14s  %s\n' "$@" | tee -a "$results/table.txt"
}

# measure_idle NAME PID PORT: RSS of PID before and while `count` connections to PORT idle.
measure_idle() {
  local name=$1 pid=$2 port=$3 out=$results/$1.txt
  local before during hold_pid status=0
  before=$(rss_kib "$pid")
  : >"$out"
  "$hold_bin" --target "127.0.0.1:$port" --count "$count" --hold-seconds "$hold" \
    >"$out" 2>&1 &
  hold_pid=$!
  while ! grep -q '^holding' "$out"; do
    if ! kill -0 "$hold_pid" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  sleep 1
  during=$(rss_kib "$pid")
  wait "$hold_pid" || status=$?
  local per
  per=$(awk -v a="$before" -v b="$during" -v n="$count" 'BEGIN { printf "%.2f", (b - a) / n }')
  row "$name" "$before KiB" "$during KiB" "$per" \
    "$(grep '^after' "$out" || echo 'hold-connections failed, see '"$out")"
  if [ "$status" -ne 0 ]; then
    failed=1
    sed 's/^/    /' "$out" >&2
  fi
}

upstream_port=$(free_port)
start_upstream "$upstream_port"

{
  echo "idle-connection benchmark $stamp on $(hostname): $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$count keep-alive connections, one request each, held idle ${hold} s; RSS read 1 s into the hold"
  echo
} | tee "$results/table.txt"
row "server" "RSS before" "RSS holding" "KiB/connection" "connections after the hold"

have_rampart=0
if [ -x "$rampart_bin" ]; then
  have_rampart=1
  rampart_port=$(free_port)
  rampart_admin=$(free_port)
  start_rampart "$rampart_bin" "$rampart_port" "$rampart_admin" "$upstream_port" \
    "max_connections = $((count + 100))

[limits]
idle_timeout_ms = $(((hold + 60) * 1000))"
  measure_idle rampart "$rampart_pid" "$rampart_port"
fi

if [ "$peers" = 1 ]; then
  nginx_port=$(free_port)
  start_nginx_proxy "$nginx_port" "$upstream_port"
  # The worker holds the connections; the master's memory does not move.
  measure_idle nginx-proxy "$(pgrep -P "$nginx_proxy_pid" | head -n1)" "$nginx_port"
  haproxy_port=$(free_port)
  start_haproxy "$haproxy_port" "$upstream_port"
  measure_idle haproxy "$haproxy_pid" "$haproxy_port"
fi

if [ "$have_rampart" = 0 ]; then
  echo "rampart: NOT MEASURED: no executable at $rampart_bin (run 'make build' or set RAMPART_BIN)" |
    tee -a "$results/table.txt" >&2
  failed=1
fi
echo "hold-connections output: $results/"
exit "$failed"
