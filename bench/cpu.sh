#!/usr/bin/env bash
# CPU time per proxied request: nginx proxy (its worker), HAProxy and rampart, each in front of
# the same nginx upstream under the same wrk load. Requests/s on a shared 2-core machine moves
# with everything else that runs; the CPU a proxy spends per request moves much less, so this
# is the figure to compare changes to the request path with.
#
# Knobs: BENCH_DURATION (6s), BENCH_CONNECTIONS (50), BENCH_RUNS (3; rounds interleave the
# proxies), RAMPART_BIN (build/rampart).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

duration=${BENCH_DURATION:-6s}
connections=${BENCH_CONNECTIONS:-50}
runs=${BENCH_RUNS:-3}
rampart_bin=${RAMPART_BIN:-build/rampart}
[ -x "$rampart_bin" ] || { echo "bench: $rampart_bin is missing; run 'make build'" >&2; exit 1; }
bench_init

upstream_port=$(free_port)
start_upstream "$upstream_port"
nginx_port=$(free_port)
start_nginx_proxy "$nginx_port" "$upstream_port"
nginx_worker=$(pgrep -P "$nginx_proxy_pid" | head -n1)
haproxy_port=$(free_port)
start_haproxy "$haproxy_port" "$upstream_port"
rampart_port=$(free_port)
start_rampart "$rampart_bin" "$rampart_port" "$(free_port)" "$upstream_port"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, in clock ticks
hz=$(getconf CLK_TCK)

measure() {  # NAME PID PORT: prints one line
  local name=$1 pid=$2 port=$3 t0 t1 out requests rps
  wrk -t1 -c"$connections" -d2s "http://127.0.0.1:$port/" >/dev/null
  t0=$(ticks "$pid")
  out=$(wrk -t1 -c"$connections" -d"$duration" "http://127.0.0.1:$port/")
  t1=$(ticks "$pid")
  requests=$(grep -Eo '[0-9]+ requests in' <<<"$out" | awk '{print $1}')
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  awk -v n="$name" -v a="$t0" -v b="$t1" -v r="$requests" -v hz="$hz" -v rps="$rps" \
    'BEGIN { printf "%-12s %10.0f %14.2f\n", n, rps, (b - a) * 1e6 / hz / r }'
}

echo "CPU per request (user+system of the proxy process), wrk -t1 -c$connections -d$duration, $runs rounds"
printf "%-12s %10s %14s\n" "proxy" "requests/s" "CPU us/request"
for _ in $(seq "$runs"); do
  measure nginx-proxy "$nginx_worker" "$nginx_port"
  measure haproxy "$haproxy_pid" "$haproxy_port"
  measure rampart "$rampart_pid" "$rampart_port"
done
