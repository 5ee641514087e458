#!/usr/bin/env bash
# The change path (docs/benchmarks.md):
#   1. commit -> every worker serving: control-bench publish (SQLite store, real Gateway);
#   2. start-up with a long history: a data directory with BENCH_DEPLOYMENTS (10000)
#      deployments, then `rampart server --data DIR` started BENCH_RUNS (5) times; prints the
#      server's own "state loaded" figure (process start -> routes published) and the wall time
#      from exec to the ready line.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

rampart_bin=${RAMPART_BIN:-build/rampart}
control_bench=${CONTROL_BENCH_BIN:-build/bench/control-bench}
runs=${BENCH_RUNS:-5}
deployments=${BENCH_DEPLOYMENTS:-10000}
for b in "$rampart_bin" "$control_bench"; do
  [ -x "$b" ] || { echo "bench: $b is missing; run 'make build'" >&2; exit 1; }
done
bench_init

echo "== commit -> every worker serving (2000 split changes)"
"$control_bench" publish --mutations 2000 --dir "$work/publish"

echo
echo "== start-up with $deployments deployments of history"
"$control_bench" populate "$work/data" --deployments "$deployments"
ls -l "$work/data" | awk 'NR>1 {printf "  %s %s\n", $5, $9}'
loaded=()
walls=()
for i in $(seq "$runs"); do
  t0=$(date +%s%N)
  "$rampart_bin" server --data "$work/data" --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
    >"$work/out.$i" 2>"$work/log.$i" &
  pid=$!
  bench_pids+=("$pid")
  for _ in $(seq 400); do
    grep -q "admin on" "$work/out.$i" 2>/dev/null && break
    sleep 0.005
  done
  t1=$(date +%s%N)
  grep -q "admin on" "$work/out.$i" || { echo "bench: rampart did not start" >&2; cat "$work/log.$i" >&2; exit 1; }
  kill -TERM "$pid"
  wait "$pid" || true
  ms=$(grep -Eo 'loaded in [0-9.]+ ms' "$work/log.$i" | awk '{print $3}')
  loaded+=("$ms")
  walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b-a)/1e6}')")
  printf "  run %d: state loaded in %s ms; exec -> ready line %s ms (polled every 5 ms)\n" \
    "$i" "$ms" "${walls[-1]}"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median: state loaded in $(median "${loaded[@]}") ms; exec -> ready $(median "${walls[@]}") ms (target: ready to serve < 100 ms)"
