#!/usr/bin/env bash
# The proxy comparison: the same wrk load against (a) the nginx upstream directly, (b) nginx as
# a proxy, (c) HAProxy, (d) rampart, each proxy with one worker in front of that upstream.
# Prints a table (requests/s, p50, p99, non-2xx, socket errors) and rampart's ratios to nginx
# and HAProxy; keeps wrk's raw output under bench/results/. Everything runs on this machine.
#
# Knobs: BENCH_DURATION (10s), BENCH_CONNECTIONS (50), BENCH_THREADS (1), BENCH_WARMUP (2s),
# BENCH_RUNS (1; with more, runs interleave and the table shows medians), BENCH_MAX_OTHERS (10)
# and BENCH_RETRIES (3): a run during which other processes took more than that % of the cores
# is repeated, RAMPART_BIN (build/rampart), BENCH_RESULTS (bench/results), BENCH_KEEP_WORK=1
# keeps configs and logs.
# Exits non-zero if a variant fails its check (it must answer the upstream's body) or rampart's
# binary is missing (after measuring the others).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-50}
threads=${BENCH_THREADS:-1}
warmup=${BENCH_WARMUP:-2s}
runs=${BENCH_RUNS:-1}
max_others=${BENCH_MAX_OTHERS:-10}
retries=${BENCH_RETRIES:-3}
rampart_bin=${RAMPART_BIN:-build/rampart}
results_root=${BENCH_RESULTS:-bench/results}

for tool in nginx haproxy wrk curl; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool is missing; run scripts/install-deps.sh" >&2
    exit 1
  }
done

stamp=$(date +%Y%m%d-%H%M%S)
results=$results_root/proxy-$stamp
mkdir -p "$results"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
bench_init

wrk_args=(-t"$threads" -c"$connections" -d"$duration" --latency)

# wrk's latency ("635.00us", "1.40ms", "1.02s") in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
    printf "%.3f", n }'
}

# run_wrk NAME URL RUN: a warm-up, then one measured run; its raw output in
# $results/NAME.RUN.txt; sets run_values to "rps p50 p99 non2xx connect read write timeout
# others" (latencies in ms; others: % of all cores used meanwhile by processes other than wrk
# and the servers) and run_others to the last of them.
run_wrk() {
  local name=$1 url=$2 run=$3 out=$results/$1.$3.txt
  wrk -t"$threads" -c"$connections" -d"$warmup" "$url" >/dev/null
  local busy0 ours0 wrk0 wall0 busy1 ours1 wrk1 wall1 others
  busy0=$(machine_busy_seconds)
  ours0=$(servers_cpu_seconds)
  children_cpu_seconds wrk0
  wall0=$(date +%s.%N)
  echo "# wrk ${wrk_args[*]} $url" >"$out"
  wrk "${wrk_args[@]}" "$url" >>"$out"
  wall1=$(date +%s.%N)
  children_cpu_seconds wrk1
  ours1=$(servers_cpu_seconds)
  busy1=$(machine_busy_seconds)
  # The share of all cores that processes other than wrk and the servers used meanwhile.
  others=$(awk -v b="$busy1" -v B="$busy0" -v o="$ours1" -v O="$ours0" -v w="$wrk1" -v W="$wrk0" \
    -v t="$wall1" -v T="$wall0" -v n="$(nproc)" \
    'BEGIN { x = ((b - B) - (o - O) - (w - W)) / ((t - T) * n) * 100; printf "%.0f", x < 0 ? 0 : x }')
  echo "# CPU used by other processes during this run: ${others}% of $(nproc) cores" >>"$out"
  local rps p50 p99 non2xx errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  non2xx=$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$out")
  errors=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4, $6, $8, $10}' "$out")
  run_values="${rps:-0} $p50 $p99 ${non2xx:-0} ${errors:-0 0 0 0} $others"
  run_others=$others
}

# median FORMAT: the median of the numbers on stdin, printed with the printf FORMAT.
median() {
  sort -g | awk -v f="$1" '{ v[NR] = $1 }
    END { printf f "\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# summarize NAME: one table row from NAME.values (medians; errors summed over the runs, the
# most disturbed run's "others"), and rps_of[NAME] / p99_of[NAME] for the ratios.
declare -A rps_of p99_of
summarize() {
  local name=$1 values=$results/$1.values
  local rps p50 p99 non2xx errors others each
  rps=$(awk '{print $1}' "$values" | median %.2f)
  p50=$(awk '{print $2}' "$values" | median %.3f)
  p99=$(awk '{print $3}' "$values" | median %.3f)
  non2xx=$(awk '{n += $4} END {print n}' "$values")
  errors=$(awk '{c += $5; r += $6; w += $7; t += $8}
    END { if (c + r + w + t == 0) print "none"; else printf "connect %d, read %d, write %d, timeout %d", c, r, w, t }' "$values")
  others=$(awk '$9 > m { m = $9 } END { printf "%d%%", m }' "$values")
  each=$(awk '{printf "%s%s", (NR > 1 ? " " : ""), $1}' "$values")
  printf '%-12s %11s %8s %8s %8s  %-14s %7s  %s\n' "$name" "$rps" "$p50" "$p99" "$non2xx" \
    "$errors" "$others" "$([ "$runs" -gt 1 ] && echo "$each")" | tee -a "$results/table.txt"
  rps_of[$name]=$rps
  p99_of[$name]=$p99
}

upstream_port=$(free_port)
nginx_port=$(free_port)
haproxy_port=$(free_port)
start_upstream "$upstream_port"
start_nginx_proxy "$nginx_port" "$upstream_port"
start_haproxy "$haproxy_port" "$upstream_port"

have_rampart=0
if [ -x "$rampart_bin" ]; then
  rampart_port=$(free_port)
  rampart_admin=$(free_port)
  start_rampart "$rampart_bin" "$rampart_port" "$rampart_admin" "$upstream_port"
  have_rampart=1
fi

{
  echo "proxy benchmark $stamp on $(hostname): $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$(nginx -v 2>&1); $(haproxy -v | head -n1); $(wrk -v 2>&1 | head -n1)"
  echo "wrk ${wrk_args[*]} (warm-up ${warmup} before each), $runs run(s) per variant, interleaved;" \
    "medians shown; upstream answers ${#BENCH_BODY} bytes"
  echo "all processes on this machine, unpinned: wrk, the proxy and the nginx upstream share the cores"
  echo "others: the most CPU (% of all cores) that processes other than wrk and the servers took"
  echo "during a measured run of that variant (runs above ${max_others}% are repeated up to ${retries} times)"
  echo
  printf '%-12s %11s %8s %8s %8s  %-14s %7s  %s\n' "variant" "requests/s" "p50 ms" "p99 ms" \
    "non-2xx" "socket errors" "others" "$([ "$runs" -gt 1 ] && echo "requests/s of each run")"
} | tee "$results/table.txt"

variants=(upstream nginx-proxy haproxy)
urls=("http://127.0.0.1:$upstream_port/" "http://127.0.0.1:$nginx_port/"
  "http://127.0.0.1:$haproxy_port/")
if [ "$have_rampart" = 1 ]; then
  variants+=(rampart)
  urls+=("http://127.0.0.1:$rampart_port/")
fi
# Runs interleave the variants, so that a change in the machine's load spreads over all of them,
# and each round starts one variant further on, so that none is always measured last. A run that
# other processes disturbed (they took more than BENCH_MAX_OTHERS % of the cores) is repeated,
# BENCH_RETRIES times at most; the table's "others" column shows what remained.
for run in $(seq "$runs"); do
  for k in "${!variants[@]}"; do
    i=$(((k + run - 1) % ${#variants[@]}))
    for attempt in $(seq 0 "$retries"); do
      run_wrk "${variants[$i]}" "${urls[$i]}" "$run"
      [ "$run_others" -le "$max_others" ] && break
      if [ "$attempt" -lt "$retries" ]; then
        echo "bench: ${variants[$i]} run $run: other processes took ${run_others}% of the cores; again" >&2
        sleep 5
      fi
    done
    echo "$run_values" >>"$results/${variants[$i]}.values"
  done
done
for v in "${variants[@]}"; do
  summarize "$v"
done

if [ "$have_rampart" = 0 ]; then
  {
    echo
    echo "rampart: NOT MEASURED: no executable at $rampart_bin (run 'make build' or set RAMPART_BIN)"
  } | tee -a "$results/table.txt" >&2
  echo "raw wrk output: $results/"
  exit 1
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
{
  echo
  echo "ratios (requests/s: above 1 is better; p99: below 1 is better)"
  for peer in nginx-proxy haproxy; do
    printf '%-20s requests/s %s, p99 %s\n' "rampart/$peer:" \
      "$(ratio "${rps_of[rampart]}" "${rps_of[$peer]}")" "$(ratio "${p99_of[rampart]}" "${p99_of[$peer]}")"
  done
  if [ "$runs" -gt 1 ]; then
    # The machine's speed drifts between rounds by more than the proxies differ; a ratio taken
    # within one round, where the variants ran minutes apart at most, cancels most of that drift.
    echo
    echo "ratios within each round (median, lowest..highest over the $runs rounds)"
    for peer in nginx-proxy haproxy; do
      paste "$results/rampart.values" "$results/$peer.values" | awk -v peer="$peer" '
        { n = split($0, f, /[ \t]+/); half = n / 2
          rps[NR] = f[1] / f[1 + half]; p99[NR] = f[3] / f[3 + half] }
        function sort(a,   i, j, t) {
          for (i = 2; i <= NR; ++i) for (j = i; j > 1 && a[j] < a[j - 1]; --j) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }
        function median(a) { return NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }
        END { sort(rps); sort(p99)
          printf "%-20s requests/s %.2f (%.2f..%.2f), p99 %.2f (%.2f..%.2f)\n", "rampart/" peer ":",
            median(rps), rps[1], rps[NR], median(p99), p99[1], p99[NR] }'
    done
  fi
} | tee -a "$results/table.txt"
echo "raw wrk output: $results/"
