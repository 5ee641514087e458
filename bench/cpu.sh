#!/usr/bin/env bash
# Where the CPU goes per proxied request: nginx proxy (its worker), HAProxy and rampart, each in
# front of the same nginx upstream under the same wrk load. For every measured run it accounts
# each request's CPU time to the proxy (user and system apart), the upstream, wrk, and the
# machine's idle time, from /proc. Requests/s on a shared 2-core machine moves with everything
# else that runs; the CPU a proxy spends per request moves much less, so this is the figure to
# compare changes to the request path with. The account also bounds what any proxy change can
# win here: when the cores are saturated, requests/s is the cores' time over the CPU time all
# processes spend per request, so a proxy that spent nothing in user space could go no faster
# than `total / (total - proxy user)` times its measured rate.
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
upstream_worker=$(pgrep -P "$upstream_pid" | head -n1)
nginx_port=$(free_port)
start_nginx_proxy "$nginx_port" "$upstream_port"
nginx_worker=$(pgrep -P "$nginx_proxy_pid" | head -n1)
haproxy_port=$(free_port)
start_haproxy "$haproxy_port" "$upstream_port"
rampart_port=$(free_port)
start_rampart "$rampart_bin" "$rampart_port" "$(free_port)" "$upstream_port"

hz=$(getconf CLK_TCK)
user_sys() { awk '{ sub(/^.*\) /, ""); print $12, $13 }' "/proc/$1/stat"; }  # utime stime (ticks)
# All cores' ticks: busy (user, nice, system, irq, softirq, steal) and idle (idle, iowait).
cores() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat; }

accounts=$work/accounts  # one line per run: name rps proxy_user proxy_sys upstream wrk idle busy
: >"$accounts"

measure() {  # NAME PID PORT
  local name=$1 pid=$2 port=$3 out requests rps
  local pu0 ps0 pu1 ps1 uu0 us0 uu1 us1 b0 i0 b1 i1 w0 w1
  wrk -t1 -c"$connections" -d2s "http://127.0.0.1:$port/" >/dev/null
  read -r pu0 ps0 < <(user_sys "$pid")
  read -r uu0 us0 < <(user_sys "$upstream_worker")
  read -r b0 i0 < <(cores)
  children_cpu_seconds w0
  out=$(wrk -t1 -c"$connections" -d"$duration" "http://127.0.0.1:$port/")
  children_cpu_seconds w1
  read -r b1 i1 < <(cores)
  read -r uu1 us1 < <(user_sys "$upstream_worker")
  read -r pu1 ps1 < <(user_sys "$pid")
  requests=$(grep -Eo '[0-9]+ requests in' <<<"$out" | awk '{print $1}')
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  awk -v n="$name" -v r="$requests" -v hz="$hz" -v rps="$rps" \
    -v pu=$((pu1 - pu0)) -v ps=$((ps1 - ps0)) -v up=$((uu1 + us1 - uu0 - us0)) \
    -v w0="$w0" -v w1="$w1" -v b=$((b1 - b0)) -v i=$((i1 - i0)) \
    'BEGIN { t = 1e6 / hz / r
      printf "%s %.0f %.2f %.2f %.2f %.2f %.2f %.2f\n", n, rps, pu * t, ps * t, up * t,
        (w1 - w0) * 1e6 / r, i * t, b * t }' | tee -a "$accounts" |
    awk '{ printf "%-12s %10s %9s %9s %9s %9s %9s %9s %9s\n", $1, $2, $3, $4, $3 + $4, $5, $6, $7, $8 }'
}

echo "CPU per request in µs, wrk -t1 -c$connections -d$duration, $runs rounds, $(nproc) cores"
header() {
  printf "%-12s %10s %9s %9s %9s %9s %9s %9s %9s\n" "$1" "requests/s" "proxy usr" "proxy sys" \
    "proxy" "upstream" "wrk" "idle" "all busy"
}
header "run"
for _ in $(seq "$runs"); do
  measure nginx-proxy "$nginx_worker" "$nginx_port"
  measure haproxy "$haproxy_pid" "$haproxy_port"
  measure rampart "$rampart_pid" "$rampart_port"
done

echo
echo "medians"
header "proxy"
for name in nginx-proxy haproxy rampart; do
  awk -v n="$name" '$1 == n { ++rows; for (c = 2; c <= 8; ++c) v[c, rows] = $c }
    function median(c,   i, j, t, a) {
      for (i = 1; i <= rows; ++i) a[i] = v[c, i]
      for (i = 2; i <= rows; ++i) for (j = i; j > 1 && a[j] < a[j - 1]; --j) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
      return rows % 2 ? a[(rows + 1) / 2] : (a[rows / 2] + a[rows / 2 + 1]) / 2 }
    END {
      u = median(3); s = median(4); busy = median(8)
      printf "%-12s %10.0f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", n, median(2), u, s, u + s,
        median(5), median(6), median(7), busy
      printf "%s %.2f %.2f\n", n, busy / (busy - u), busy / (busy - u - s) >> ceilings
    }' ceilings="$work/ceilings" "$accounts"
done

echo
echo "ceilings: with the cores saturated (idle small beside all busy), the factor by which"
echo "requests/s could rise at most if the proxy spent no user-space time / no time at all"
awk '{ printf "%-12s %5.2fx / %5.2fx\n", $1, $2, $3 }' "$work/ceilings"
