#!/usr/bin/env bash
# Rollback time (docs/benchmarks.md): rampart in front of v1 (good) and v3 (20% errors), ~500
# requests/s from wrk (8 connections to an app that takes 16 ms per answer), and
# `rampart deploy shop --version v3` with the canary at 10%, for each judge and analysis
# interval of BENCH_CASES (threshold at 1s, 5s and 30s; sequential at 30s, whose interval only
# says how often its evidence is written). For each: the time from the rollout's first traffic
# ("started") to its rollback ("rolled_back"), the requests that clients of v1 saw fail, and the
# rate.
# Then the controller's own cost per tick with 100 services under rollout (rollout-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

rampart_bin=${RAMPART_BIN:-build/rampart}
app_bin=${DEMO_APP_BIN:-build/examples/demo-app/demo-app}
rollout_bench=${ROLLOUT_BENCH_BIN:-build/bench/rollout-bench}
cases=${BENCH_CASES:-threshold:1s threshold:5s threshold:30s sequential:30s}
for b in "$rampart_bin" "$app_bin" "$rollout_bench"; do
  [ -x "$b" ] || { echo "bench: $b is missing; run 'make build'" >&2; exit 1; }
done
bench_init

start_app() {  # DIR NAME FLAGS...: prints the port
  local dir=$1 name=$2 line=""
  shift 2
  mkdir -p "$dir"
  "$app_bin" --port 0 --name "$name" "$@" >"$dir/$name.out" 2>"$dir/$name.log" &
  bench_pids+=($!)
  for _ in $(seq 100); do
    line=$(head -n1 "$dir/$name.out" 2>/dev/null || true)
    [ -n "$line" ] && break
    sleep 0.05
  done
  echo "${line##*:}"
}

ms_of() { date -u -d "$1" +%s%3N; }  # RFC 3339 -> unix ms

printf "%-11s %-9s %-12s %-14s %-13s %s\n" judge interval "rollback ms" "requests/s" \
  "v1 failures" "v3 requests"
for case in $cases; do
  judge=${case%%:*}
  interval=${case##*:}
  dir="$work/$judge-$interval"
  v1=$(start_app "$dir" v1 --latency-ms 16)
  v3=$(start_app "$dir" v3 --latency-ms 16 --error-rate 0.2)
  cat >"$dir/rampart.toml" <<TOML
[server]
listen = "127.0.0.1:0"
admin = "127.0.0.1:0"
workers = 2

[[service]]
name = "shop"
routes = ["/"]
sticky = "none"
[[service.version]]
name = "v1"
upstreams = ["http://127.0.0.1:$v1"]
[[service.version]]
name = "v3"
upstreams = ["http://127.0.0.1:$v3"]
[service.split]
v1 = 100

[service.rollout]
steps = [ { weight = 10, pause = "1h" }, { weight = 100 } ]
[service.rollout.analysis]
judge = "$judge"
interval = "$interval"
min_requests = 20
TOML
  "$rampart_bin" server --data "$dir/data" --config "$dir/rampart.toml" >"$dir/rampart.out" 2>"$dir/rampart.log" &
  bench_pids+=($!)
  for _ in $(seq 100); do
    grep -q "admin on" "$dir/rampart.out" 2>/dev/null && break
    sleep 0.05
  done
  gw=$(sed -E 's/.*gateway on ([^ ]+) .*/\1/' <"$dir/rampart.out")
  admin=$(sed -E 's/.*admin on ([^ ]+).*/\1/' <"$dir/rampart.out")
  seconds=${interval%s}
  wrk -t2 -c8 -d"$((seconds * 2 + 8))s" "http://$gw/" >"$dir/wrk.out" 2>&1 &
  wrk_pid=$!
  sleep 2
  RAMPART_DATA="$dir/data" "$rampart_bin" deploy shop --version v3 --watch >"$dir/deploy.out" 2>&1 || true
  started=$(awk '$2 == "started" {print $1; exit}' "$dir/deploy.out")
  back=$(awk '$2 == "rolled_back" {print $1; exit}' "$dir/deploy.out")
  if [ -z "$started" ] || [ -z "$back" ]; then
    echo "bench: the rollout ($judge, interval $interval) did not end in a rollback:" >&2
    cat "$dir/deploy.out" >&2
    exit 1
  fi
  metrics=$(curl -fsS "http://$admin/metrics")
  v1_failed=$(awk '/^rampart_requests_total\{service="shop",version="v1",class="5xx"\}/ {print $2}' <<<"$metrics")
  v3_requests=$(awk '/^rampart_requests_total\{service="shop",version="v3"/ {n+=$2} END {print n+0}' <<<"$metrics")
  kill -INT "$wrk_pid" 2>/dev/null || true  # wrk prints its summary on SIGINT
  wait "$wrk_pid" 2>/dev/null || true
  rps=$(awk '/Requests\/sec/ {printf "%d", $2}' "$dir/wrk.out")
  printf "%-11s %-9s %-12s %-14s %-13s %s\n" "$judge" "$interval" \
    "$(( $(ms_of "$back") - $(ms_of "$started") ))" \
    "${rps:-?}" "${v1_failed:-0}" "$v3_requests"
done

echo
echo "== the controller's own cost per tick, 100 services under rollout"
"$rollout_bench" --services 100 --ticks 200 --dir "$work/rollout-bench"
