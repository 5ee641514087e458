#!/usr/bin/env bash
# The demo: rampart in front of two versions of the demo app, splitting live traffic. The CLI
# checkpoints v1, moves the split to v2 step by step (each step a durable, numbered
# deployment) and rolls back to the checkpoint, while wrk keeps the traffic flowing. It ends
# with the deployment history and the count of requests that failed: zero.
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

start_app() {  # name: starts the app, sets app_port
  local name=$1 line=""
  "$app" --port 0 --name "$name" --latency-ms 2 --jitter-ms 1 >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 100); do
    line=$(head -n1 "$work/$name.out" 2>/dev/null || true)
    [ -n "$line" ] && break
    sleep 0.05
  done
  app_port=${line##*:}
  [ -n "$app_port" ] || { echo "demo: demo-app $name did not start" >&2; exit 1; }
}

start_app v1; v1=$app_port
start_app v2; v2=$app_port
echo "demo-app v1 on 127.0.0.1:$v1, v2 on 127.0.0.1:$v2"

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
upstreams = ["http://127.0.0.1:$v1"]

[[service.version]]
name = "v2"
upstreams = ["http://127.0.0.1:$v2"]

[service.split]
v1 = 100
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

counts() {  # prints "v1 v2 non2xx" totals from /metrics
  curl -fsS "http://$admin/metrics" | awk '
    /^rampart_requests_total\{service="shop",version="v1",class="2xx"\}/ {a=$2}
    /^rampart_requests_total\{service="shop",version="v2",class="2xx"\}/ {b=$2}
    /^rampart_requests_total\{service="shop"/ && !/class="2xx"/ {e+=$2}
    END {printf "%d %d %d\n", a, b, e}'
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
read -r c1 c2 bad < <(counts)
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
rampart "deployments list shop"
echo
echo "zero failed requests while the split moved 0% -> 10% -> 50% -> 100% and rolled back to the checkpoint."
