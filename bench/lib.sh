# shellcheck shell=bash
# Shared by bench/proxy.sh and bench/idle.sh: free loopback ports, the servers under test
# (each in the foreground, from its own directory under $work, killed by the EXIT trap), and
# waiting until a server really answers. Source it from the repository root; call bench_init
# first.

# The scripts that source this file read the *_pid variables that the start_* functions set.
# shellcheck disable=SC2034

# The upstream's answer: a small fixed body (~100 bytes). Every variant must return exactly it.
BENCH_BODY="rampart bench upstream: a small fixed body of one hundred bytes, the same answer for every request."

bench_init() {
  work=$(mktemp -d /tmp/rampart-bench.XXXXXX)
  chmod 755 "$work"  # nginx workers run as an unprivileged user when started by root
  bench_pids=()
  bench_ports=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

bench_cleanup() {
  local p
  for p in "${bench_pids[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  # rampart drains on SIGTERM; give everything a moment, then make sure.
  for _ in $(seq 30); do
    local alive=0
    for p in "${bench_pids[@]}"; do
      kill -0 "$p" 2>/dev/null && alive=1
    done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${bench_pids[@]}"; do
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "${BENCH_KEEP_WORK:-0}" = 1 ]; then
    echo "bench: kept $work" >&2
  else
    rm -rf "$work"
  fi
}

# A loopback port nothing listens on, below the ephemeral range so that no client socket
# takes it meanwhile, and not handed out before in this run.
free_port() {
  local p used
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 12000))
    used=0
    for q in "${bench_ports[@]}"; do
      [ "$q" = "$p" ] && used=1
    done
    [ "$used" = 1 ] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      bench_ports+=("$p")
      echo "$p"
      return 0
    fi
  done
  echo "bench: found no free port" >&2
  return 1
}

# wait_for_body NAME URL LOG: polls (10 s at most) until URL answers exactly $BENCH_BODY.
wait_for_body() {
  local name=$1 url=$2 log=$3 got=""
  for _ in $(seq 200); do
    got=$(curl -s --max-time 1 "$url" 2>/dev/null || true)
    [ "$got" = "$BENCH_BODY" ] && return 0
    sleep 0.05
  done
  echo "bench: $name at $url did not answer with the upstream's body (last answer: '${got}')" >&2
  [ -f "$log" ] && tail -n 20 "$log" >&2
  return 1
}

# The nginx temp paths and pid file inside DIR, so that nothing touches /var.
nginx_common() {
  local dir=$1
  cat <<EOF
worker_processes 1;
worker_rlimit_nofile $(ulimit -n);
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections ${BENCH_NGINX_CONNECTIONS:-4096}; }
EOF
}

nginx_http_common() {
  local dir=$1
  cat <<EOF
  access_log off;
  client_body_temp_path $dir/client_body_temp;
  proxy_temp_path $dir/proxy_temp;
  fastcgi_temp_path $dir/fastcgi_temp;
  uwsgi_temp_path $dir/uwsgi_temp;
  scgi_temp_path $dir/scgi_temp;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
EOF
}

run_nginx() {  # DIR: runs DIR/nginx.conf in the foreground; records the master's pid
  local dir=$1
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' \
    >"$dir/stdout.log" 2>&1 &
  bench_pids+=($!)
  last_pid=$!
}

# start_upstream PORT: nginx, 1 worker, answering $BENCH_BODY on every path, keep-alive.
start_upstream() {
  local port=$1 dir=$work/upstream
  mkdir -p "$dir"
  {
    nginx_common "$dir"
    echo "http {"
    nginx_http_common "$dir"
    cat <<EOF
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / {
      default_type text/plain;
      return 200 "$BENCH_BODY";
    }
  }
}
EOF
  } >"$dir/nginx.conf"
  run_nginx "$dir"
  upstream_pid=$last_pid
  wait_for_body "nginx upstream" "http://127.0.0.1:$port/" "$dir/error.log"
}

# write_nginx_proxy_config DIR PORT UPSTREAM_PORT [MAIN_LINES]: DIR/nginx.conf for nginx as a
# proxy, 1 worker, keep-alive pool of 64 to the upstream; MAIN_LINES go to the main context.
write_nginx_proxy_config() {
  local dir=$1 port=$2 upstream=$3 main=${4:-}
  mkdir -p "$dir"
  {
    nginx_common "$dir"
    if [ -n "$main" ]; then echo "$main"; fi
    echo "http {"
    nginx_http_common "$dir"
    cat <<EOF
  upstream backend {
    server 127.0.0.1:$upstream;
    keepalive 64;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  } >"$dir/nginx.conf"
}

# start_nginx_proxy PORT UPSTREAM_PORT: nginx, 1 worker, keep-alive pool of 64 to the upstream.
start_nginx_proxy() {
  local port=$1 upstream=$2 dir=$work/nginx-proxy
  write_nginx_proxy_config "$dir" "$port" "$upstream"
  run_nginx "$dir"
  nginx_proxy_pid=$last_pid
  wait_for_body "nginx proxy" "http://127.0.0.1:$port/" "$dir/error.log"
}

# write_haproxy_config DIR PORT UPSTREAM_PORT: DIR/haproxy.cfg, one thread, mode http,
# http-reuse always.
write_haproxy_config() {
  local dir=$1 port=$2 upstream=$3
  mkdir -p "$dir"
  cat >"$dir/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn ${BENCH_HAPROXY_MAXCONN:-4096}
  # HAProxy sizes descriptors at two per connection and by default refuses to start when the
  # hard limit is lower; with http-reuse, clients need one each, so warn and go on.
  no strict-limits

defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s

frontend bench
  bind 127.0.0.1:$port
  default_backend upstream

backend upstream
  server nginx 127.0.0.1:$upstream
EOF
}

# start_haproxy PORT UPSTREAM_PORT: HAProxy, one thread, mode http, http-reuse always.
start_haproxy() {
  local port=$1 upstream=$2 dir=$work/haproxy
  write_haproxy_config "$dir" "$port" "$upstream"
  haproxy -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
  bench_pids+=($!)
  haproxy_pid=$!
  wait_for_body "HAProxy" "http://127.0.0.1:$port/" "$dir/haproxy.log"
}

# write_rampart_config DIR PORT ADMIN_PORT UPSTREAM_PORT [EXTRA_SERVER_LINES]: DIR/rampart.toml,
# 1 worker, one service on "/" in front of the upstream.
write_rampart_config() {
  local dir=$1 port=$2 admin=$3 upstream=$4 extra=${5:-}
  mkdir -p "$dir"
  cat >"$dir/rampart.toml" <<EOF
[server]
listen = "127.0.0.1:$port"
admin = "127.0.0.1:$admin"
workers = 1
$extra

[[service]]
name = "bench"
routes = ["/"]
sticky = "none"

[[service.version]]
name = "v1"
upstreams = ["http://127.0.0.1:$upstream"]
EOF
}

# start_rampart BIN PORT ADMIN_PORT UPSTREAM_PORT [EXTRA_SERVER_LINES]: rampart, 1 worker.
start_rampart() {
  local bin=$1 port=$2 admin=$3 upstream=$4 extra=${5:-} dir=$work/rampart
  write_rampart_config "$dir" "$port" "$admin" "$upstream" "$extra"
  "$bin" server --data "$dir/data" --config "$dir/rampart.toml" >"$dir/stdout.log" 2>"$dir/rampart.log" &
  bench_pids+=($!)
  rampart_pid=$!
  wait_for_body "rampart" "http://127.0.0.1:$port/" "$dir/rampart.log"
}

# VmRSS of PID in KiB.
rss_kib() {
  awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

# CPU seconds (user + system) used so far by the servers this run started and their children.
servers_cpu_seconds() {
  local p pids=() children
  for p in "${bench_pids[@]}"; do
    mapfile -t children < <(pgrep -P "$p" || true)
    pids+=("$p" "${children[@]}")
  done
  for p in "${pids[@]}"; do
    cat "/proc/$p/stat" 2>/dev/null || true
  done | awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); s += $12 + $13 }
    END { printf "%.3f\n", s / tck }'
}

# CPU seconds the whole machine has spent on processes since boot: user, nice, system and
# steal. Interrupt time is left out: the loopback traffic under test itself causes most of it.
machine_busy_seconds() {
  awk -v tck="$(getconf CLK_TCK)" '/^cpu / { printf "%.3f\n", ($2 + $3 + $4 + $9) / tck }' /proc/stat
}

# children_cpu_seconds VAR: sets VAR to the CPU seconds (user + system) used so far by this
# shell's finished children (wrk, curl). `times` has to run in this shell: in a $(...) subshell
# it would see only the subshell's own children.
children_cpu_seconds() {
  times >"$work/times"
  printf -v "$1" '%s' "$(awk 'NR == 2 { s = 0
      for (i = 1; i <= 2; ++i) { split($i, a, /[ms]/); s += a[1] * 60 + a[2] }
      printf "%.3f\n", s }' "$work/times")"
}
