#!/usr/bin/env bash
# The demo: rampart in front of two versions of the demo app, splitting live traffic, then
# moving the split step by step (config reloads) while wrk keeps the traffic flowing. It ends
# by counting the requests that failed: zero.
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

write_config() {  # v1-weight v2-weight
  cat >"$work/rampart.toml.tmp" <<TOML
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
v1 = $1
v2 = $2
TOML
  mv "$work/rampart.toml.tmp" "$work/rampart.toml"
}

write_config 100 0
"$bin" server --config "$work/rampart.toml" >"$work/rampart.out" 2>"$work/rampart.log" &
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

counts() {  # prints "v1 v2 non2xx" totals from /metrics
  curl -fsS "http://$admin/metrics" | awk '
    /^rampart_requests_total\{service="shop",version="v1",class="2xx"\}/ {a=$2}
    /^rampart_requests_total\{service="shop",version="v2",class="2xx"\}/ {b=$2}
    /^rampart_requests_total\{service="shop"/ && !/class="2xx"/ {e+=$2}
    END {printf "%d %d %d\n", a, b, e}'
}

steps=("100 0" "90 10" "50 50" "0 100" "100 0")
labels=("all on v1" "canary: 10% to v2" "half and half" "all on v2" "rolled back to v1")
duration=$(( ${#steps[@]} * 3 + 2 ))
echo
echo "wrk: 8 keep-alive connections for ${duration}s against http://$gw/ ..."
wrk -t2 -c8 -d"${duration}s" "http://$gw/" >"$work/wrk.out" 2>&1 &
wrk_pid=$!
pids+=($wrk_pid)

printf "\n%-22s %8s %8s %10s\n" "step" "v1 req" "v2 req" "v2 share"
for i in "${!steps[@]}"; do
  read -r w1 w2 <<<"${steps[$i]}"
  write_config "$w1" "$w2"
  "$bin" reload --admin "$admin" >/dev/null
  sleep 0.2
  read -r p1 p2 _ < <(counts)
  sleep 2.8
  read -r c1 c2 _ < <(counts)
  d1=$((c1 - p1)); d2=$((c2 - p2))
  share=$(awk -v a="$d1" -v b="$d2" 'BEGIN { if (a+b>0) printf "%.1f%%", 100*b/(a+b); else print "-" }')
  printf "%-22s %8d %8d %10s   (split v1=%s v2=%s)\n" "${labels[$i]}" "$d1" "$d2" "$share" "$w1" "$w2"
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
echo "zero failed requests while the split moved 0% -> 10% -> 50% -> 100% -> 0%."
