#!/usr/bin/env bash
# User-space instructions per proxied request, counted by callgrind: rampart (1 worker),
# nginx (one process, master_process off) and HAProxy (one thread) in front of the same nginx
# upstream, each under
# `valgrind --tool=callgrind` with instrumentation switched on only while wrk runs. Unlike
# requests/s on a shared machine this figure does not move between runs, so it is the one to
# compare changes to the request path with; the kernel's share (the syscalls) is not in it.
#
# Knobs: BENCH_DURATION (6s), RAMPART_BIN (build/rampart), BENCH_PROXIES ("rampart nginx
# haproxy": which to measure), BENCH_TAIL (1: a `rampart tail bench --format json` runs against
# rampart while it is measured; its reading, on the admin threads, is in the count too),
# BENCH_KEEP (a directory to copy the callgrind files to, for callgrind_annotate).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

duration=${BENCH_DURATION:-6s}
rampart_bin=${RAMPART_BIN:-build/rampart}
[ -x "$rampart_bin" ] || { echo "bench: $rampart_bin is missing; run 'make build'" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "bench: valgrind is missing (scripts/install-deps.sh)" >&2; exit 1; }
bench_init
upstream=$(free_port)
start_upstream "$upstream"

# measure NAME PORT PID: wrk against PORT with callgrind's instrumentation on in PID.
measure() {
  local name=$1 port=$2 pid=$3 out=$work/$1.callgrind requests ir
  for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
    sleep 0.2
  done
  if [ "$name" = rampart ] && [ "${BENCH_TAIL:-0}" = 1 ]; then
    "$rampart_bin" tail bench --format json --data "$work/rampart/data" >/dev/null 2>"$work/tail.err" &
    bench_pids+=($!)
    sleep 1
  fi
  wrk -t1 -c10 -d2s "http://127.0.0.1:$port/" >/dev/null
  callgrind_control -i on "$pid" >/dev/null
  wrk -t1 -c10 -d"$duration" "http://127.0.0.1:$port/" >"$work/$name.wrk"
  callgrind_control -i off "$pid" >/dev/null
  callgrind_control -d "$pid" >/dev/null
  sleep 1
  if [ -n "${BENCH_KEEP:-}" ]; then mkdir -p "$BENCH_KEEP" && cp "$work/$name".callgrind* "$BENCH_KEEP"/; fi
  requests=$(grep -Eo '[0-9]+ requests in' "$work/$name.wrk" | awk '{print $1}')
  ir=$(cat "$work/$name".callgrind* 2>/dev/null | awk '/^totals:/ {s += $2} END {print s + 0}')
  printf "%-12s %10s %14s %12s\n" "$name" "$requests" "$ir" "$(( ir / requests ))"
}

echo "user-space instructions per proxied request (callgrind), wrk -t1 -c10 -d$duration"
printf "%-12s %10s %14s %12s\n" proxy requests instructions per-request

proxies=${BENCH_PROXIES:-rampart nginx haproxy}
wanted() { [[ " $proxies " == *" $1 "* ]]; }

if wanted rampart; then
port=$(free_port); dir=$work/rampart
write_rampart_config "$dir" "$port" "$(free_port)" "$upstream"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/rampart.callgrind" \
  "$rampart_bin" server --data "$dir/data" --config "$dir/rampart.toml" >"$dir/out" 2>"$dir/log" &
bench_pids+=($!)
measure rampart "$port" "$!"
fi

if wanted nginx; then
port=$(free_port); dir=$work/nginx
write_nginx_proxy_config "$dir" "$port" "$upstream" "master_process off;"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/nginx.callgrind" \
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' >"$dir/out" 2>&1 &
bench_pids+=($!)
measure nginx "$port" "$!"
fi

if wanted haproxy; then
port=$(free_port); dir=$work/haproxy
write_haproxy_config "$dir" "$port" "$upstream"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/haproxy.callgrind" \
  haproxy -f "$dir/haproxy.cfg" -db >"$dir/out" 2>&1 &
bench_pids+=($!)
measure haproxy "$port" "$!"
fi
