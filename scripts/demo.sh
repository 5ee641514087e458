#!/usr/bin/env bash
# The demo: rampart runs three versions of the demo app (2 instances each, on ports it picks)
# and puts its gateway in front of them, with live traffic.
#   1. By hand: the CLI checkpoints v1, moves the split to v2 step by step (each step a durable,
#      numbered deployment) and rolls back to the checkpoint: zero failed requests.
#   2. Rollouts: `rampart deploy` promotes v2 (good) through 10% -> 50% -> 100% on its own,
#      judging every step from the gateway's own counters; then v3 (20% errors) is rolled back
#      automatically, deployed straight from its command (`rampart deploy ... -- demo-app ...`).
#      Then the history, v3's report, and the instances rampart supervises.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${RAMPART_BIN:-build/rampart}
app=${DEMO_APP_BIN:-build/examples/demo-app/demo-app}
for b in "$bin" "$app"; do
  [ -x "$b" ] || { echo "demo: $b is missing; run 'make build' first" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Every version is the demo app run by rampart: `{port}` is each instance's port.
run_app() {  # name [flags...]: the TOML run array
  local out="[\"$app\", \"--port\", \"{port}\", \"--name\", \"$1\", \"--latency-ms\", \"2\", \"--jitter-ms\", \"1\""
  shift
  for f in "$@"; do out+=", \"$f\""; done
  echo "$out]"
}
app=$(cd "$(dirname "$app")" && pwd)/$(basename "$app")

cat >"$work/rampart.toml" <<TOML
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
run = $(run_app v1)
instances = 2

[[service.version]]
name = "v2"
run = $(run_app v2)
instances = 2

[service.split]
v1 = 100

# A demo-sized rollout: 3 s per step, a 1 s analysis window, seed 004's default checks.
[service.rollout]
steps = [ { weight = 10, pause = "3s" }, { weight = 50, pause = "3s" }, { weight = 100 } ]

[service.rollout.analysis]
interval = "1s"
min_requests = 50
TOML

# The data directory holds the store, the admin token and the admin address: every rampart
# command below finds the server through it.
export RAMPART_DATA="$work/data"
"$bin" server --data "$RAMPART_DATA" --config "$work/rampart.toml" >"$work/rampart.out" 2>"$work/rampart.log" &
pids+=($!)
for _ in $(seq 100); do
  grep -q "admin on" "$work/rampart.out" 2>/dev/null && break
  sleep 0.05
done
line=$(head -n1 "$work/rampart.out")
echo "$line"
gw=$(sed -E 's/.*gateway on ([^ ]+) .*/\1/' <<<"$line")
admin=$(sed -E 's/.*admin on ([^ ]+).*/\1/' <<<"$line")
[ -n "$gw" ] && [ -n "$admin" ] || { echo "demo: rampart did not start" >&2; cat "$work/rampart.log" >&2; exit 1; }

rampart() {  # STEP: shows the command line, then runs it (STEP is shell words, quotes kept)
  echo "\$ rampart $1"
  eval "\"\$bin\" $1"
}

counts() {  # prints "v1 v2 non2xx-of-v1-and-v2 non2xx-of-v3" totals from /metrics
  curl -fsS "http://$admin/metrics" | awk '
    /^rampart_requests_total\{service="shop",version="v1",class="2xx"\}/ {a=$2}
    /^rampart_requests_total\{service="shop",version="v2",class="2xx"\}/ {b=$2}
    /^rampart_requests_total\{service="shop",version="v[12]"/ && !/class="2xx"/ {e+=$2}
    /^rampart_requests_total\{service="shop",version="v3"/ && !/class="2xx"/ {f+=$2}
    END {printf "%d %d %d %d\n", a, b, e, f}'
}

steps=(
  "checkpoint shop --note 'v1 is stable'"
  "split shop v1=90 v2=10 -m 'canary at 10%'"
  "split shop v1=50 v2=50 -m 'half and half'"
  "split shop v1=0 v2=100 -m 'all on v2'"
  "rollback shop --checkpoint 1 -m 'v2 rolled back to the checkpoint'"
)
duration=$(( ${#steps[@]} * 3 + 5 ))
echo
echo "wrk: 8 keep-alive connections for ${duration}s against http://$gw/ ..."
wrk -t2 -c8 -d"${duration}s" "http://$gw/" >"$work/wrk.out" 2>&1 &
wrk_pid=$!
pids+=($wrk_pid)

for step in "${steps[@]}"; do
  echo
  rampart "$step"
  sleep 0.2
  read -r p1 p2 _ < <(counts)
  sleep 2.8
  read -r c1 c2 _ < <(counts)
  d1=$((c1 - p1)); d2=$((c2 - p2))
  share=$(awk -v a="$d1" -v b="$d2" 'BEGIN { if (a+b>0) printf "%.1f%%", 100*b/(a+b); else print "-" }')
  printf "  traffic over the next 3 s: v1 %d, v2 %d requests (v2 share %s)\n" "$d1" "$d2" "$share"
done
wait "$wrk_pid" || true
read -r c1 c2 bad _ < <(counts)
total=$(grep -Eo '[0-9]+ requests in' "$work/wrk.out" | awk '{print $1}' || true)
errors=$(grep -Eo 'Non-2xx or 3xx responses: [0-9]+' "$work/wrk.out" | awk '{print $NF}' || true)
sockerr=$(grep -Eo 'Socket errors: .*' "$work/wrk.out" || true)
echo
echo "requests sent: ${total:-0}; answered by v1: $c1, by v2: $c2; failed: $(( ${errors:-0} + bad ))${sockerr:+ ($sockerr)}"
if [ "$(( ${errors:-0} + bad ))" -ne 0 ] || [ -n "$sockerr" ]; then
  echo "demo: some requests failed" >&2
  exit 1
fi
echo
echo "zero failed requests while the split moved 0% -> 10% -> 50% -> 100% and rolled back to the checkpoint."

# --- 2. Rollouts ---------------------------------------------------------------------------
echo
echo "wrk: 8 keep-alive connections for 30s against http://$gw/ while rampart deploys ..."
wrk -t2 -c8 -d30s "http://$gw/" >"$work/wrk2.out" 2>&1 &
wrk_pid=$!
pids+=($wrk_pid)
sleep 0.5
echo
rampart "deploy shop --version v2 --watch -m 'v2: promoted by its numbers'"
echo
if rampart "deploy shop --version v3 --watch -m 'v3: a bad build' --instances 2 -- $app --port {port} --name v3 --latency-ms 2 --jitter-ms 1 --error-rate 0.2"; then
  echo "demo: v3 was promoted; it should have been rolled back" >&2
  exit 1
fi
kill "$wrk_pid" 2>/dev/null || true
wait "$wrk_pid" 2>/dev/null || true
read -r c1 c2 bad v3bad < <(counts)
echo
echo "failed requests of v1 and v2: $bad; v3's own errors before its rollback: $v3bad"
[ "$bad" -eq 0 ] || { echo "demo: requests to v1 or v2 failed" >&2; exit 1; }
echo
rampart "deployments list shop"
echo
rampart "report shop"
echo
rampart "status shop"
