#!/usr/bin/env bash
# Proxy-bound benchmark on loopback (`bench/run proxy-bound`): what each
# proxy costs per request when the upstream is so cheap that the proxy,
# not the upstream, is what is measured.
#
# Upstream: nginx answering a fixed Defender incidents page (JSON, about
# 500 bytes) on /api/incidents over plain HTTP, in one process. The page
# ends in an absolute @odata.nextLink naming the upstream, so xdrproxy's
# paging-link rewriter runs on every answer (the run checks that the link
# comes back rewritten). Plain HTTP, not TLS: the proxies' own work is
# what is compared, not their TLS libraries (with keep-alive, TLS to the
# upstream adds record encryption per answer, much the same for all of
# them); xdrproxy accepts http:// upstreams on loopback only. The upstream
# answers 401 to a request without a bearer, so a proxy that does not set
# one shows as errors. xdrsim is only the Entra ID authority.
#
# Targets, each alone on CPU 0 (taskset; the Go runtimes then see one CPU):
#   direct          no proxy: wrk to the upstream, the baseline for the
#                   added latency
#   xdrproxy        the default configuration: log level info, one access
#                   log line per request (to a file); XDRPROXY_RATE_LIMITS=off
#                   so that the limiter is not what is measured
#   xdrproxy-warn   the same with XDRPROXY_LOG_LEVEL=warn: no access log
#   xdrproxy-image  the default configuration with the garbage collector
#                   settings the image sets (the Dockerfile's GOGC and
#                   GOMEMLIMIT)
#   nginx           proxy_pass with a static bearer (proxy_set_header),
#                   master + one worker, upstream keep-alive as nginx's
#                   docs say (keepalive, HTTP/1.1, Connection cleared)
#   haproxy         http-request set-header with a static bearer, one
#                   thread, http-reuse safe (its docs' recommendation)
#   caddy           reverse_proxy with header_up Authorization, upstream
#                   keep-alive raised above its 32 idle connections per host
# nginx, HAProxy and Caddy write no access log. wrk (one thread), the
# upstream nginx and xdrsim share CPU 1: on two cores the proxy under test
# is alone on its core and everything else is on the other.
#
# Each point starts its target afresh, warms up for 1 s at 64 connections,
# then runs wrk for SECONDS at 1 and at 64 keep-alive connections and
# measures (median over the repeats, min–max):
#   CPU µs/req      CPU time (utime + stime in /proc/PID/stat) of the
#                   process the script started and its descendants (the
#                   nginx worker), / requests served
#   req/s           at 64 connections; CPU0 % says whether the proxy's core
#                   was the bottleneck, CPU1 % whether the load generator's was
#   added latency   p50 and p99 through the proxy minus direct's median
#                   p50 and p99 at the same connection count
#   RSS             VmRSS of the process and its descendants after the load
# A point during which processes not ours took more than BENCH_MAX_OTHER
# (10) % of the cores in use is measured again, up to BENCH_TRIES (3) times,
# and the quietest try kept. The order of the targets rotates each repeat.
#
# Usage: bench/run proxy-bound [seconds-per-point, default 5] [repeats, default 3]
# Environment: BENCH_PORT_BASE (28500: 5 ports from it must be free),
# BENCH_NICE=-10 runs everything at that niceness, BENCH_TARGETS (a
# space-separated subset of the targets below; direct and nginx are always
# measured, as the baselines), BENCH_PROFILE=DIR saves a CPU profile of
# each xdrproxy point at 64 connections there (pprof on; sampling costs
# about 1%), for `go tool pprof -top DIR/xdrproxy-64-r1.pprof`.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH="bench/run proxy-bound"
source bench/lib.sh
SECS=${1:-5}
REPEATS=${2:-3}
counts_or_usage 2 $# "$SECS" "$REPEATS"
BASE=${BENCH_PORT_BASE:-28500}
MAX_OTHER=${BENCH_MAX_OTHER:-10} TRIES=${BENCH_TRIES:-3}
install_missing wrk:wrk nginx:nginx-light haproxy:haproxy caddy:caddy curl:curl
[ "$(nproc)" -ge 2 ] || { echo "$BENCH: needs two cores, one for the proxy and one for the rest" >&2; exit 1; }
PROXY_CPU=0 LOAD_CPU=1
ports_free "$BASE" 5
SIM_PORT=$BASE UP_PORT=$((BASE + 1)) PROXY_PORT=$((BASE + 2)) ADMIN_PORT=$((BASE + 3))
CONNS=(1 64)
PATH_Q='/api/incidents?$top=10'
UPSTREAM=http://127.0.0.1:$UP_PORT

go build -o "$work/xdrproxy" ./cmd/xdrproxy
[ -z "${BENCH_NICE:-}" ] || renice -n "$BENCH_NICE" -p $$ >/dev/null

start_xdrsim $LOAD_CPU "$SIM_PORT"
AUTH=https://127.0.0.1:$SIM_PORT
CLIENT_ID=00000000-5eed-4a11-b0b0-00000000c11e
SECRET=xdrsim-demo-secret-not-for-production
TENANT=11111111-1111-4111-8111-111111111111
# The static bearer nginx, HAProxy and Caddy send: a real token, so that
# every proxy sends a header of the same size.
TOKEN=$(curl -s --cacert "$work/ca.pem" -d grant_type=client_credentials -d client_id=$CLIENT_ID \
  --data-urlencode client_secret=$SECRET -d scope=https://api.security.microsoft.com/.default \
  "$AUTH/$TENANT/oauth2/v2.0/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "$BENCH: could not get a token from the simulator" >&2; exit 1; }

start_upstream_nginx $LOAD_CPU "$UP_PORT" "$(incidents_json "$UPSTREAM/api/incidents?\$top=10&\$skip=10")" bearer

# The proxies' configurations, each forwarding to the upstream with the
# static bearer and keeping upstream connections alive as its docs say.
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
user root;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  # Clients: no limit on requests per connection (nginx closes one after
  # 1,000 by default; the other proxies do not).
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  # Upstream keep-alive (ngx_http_upstream_module): a cache of idle
  # connections, HTTP/1.1 and the Connection header cleared.
  upstream api { server 127.0.0.1:$UP_PORT; keepalive 128; keepalive_requests 100000000; keepalive_timeout 300s; }
  server {
    listen 127.0.0.1:$PROXY_PORT;
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer $TOKEN";
    }
  }
}
CONF
# HAProxy: http-reuse safe (the default, and its docs' recommended
# strategy) with an unlimited idle pool (pool-max-conn -1) kept 300 s;
# maxconn high enough that idle connections are not closed for lack of
# file descriptors (tune.pool-*-fd-ratio).
cat >"$work/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  http-reuse safe
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
frontend proxy
  bind 127.0.0.1:$PROXY_PORT
  default_backend api
backend api
  http-request set-header Authorization "Bearer $TOKEN"
  server upstream 127.0.0.1:$UP_PORT pool-max-conn -1 pool-purge-delay 300s
CONF
# Caddy: keep-alive to the upstream as its http transport documents it,
# with more idle connections per host than its default 32 (below 64
# client connections, the rest would be opened and closed per request).
cat >"$work/Caddyfile" <<CONF
{
  admin off
  auto_https off
  log {
    output discard
  }
}
http://127.0.0.1:$PROXY_PORT {
  reverse_proxy $UPSTREAM {
    header_up Authorization "Bearer $TOKEN"
    transport http {
      keepalive 5m
      keepalive_idle_conns 1024
      keepalive_idle_conns_per_host 1024
    }
  }
}
CONF

# start_target NAME: starts NAME pinned to PROXY_CPU, sets TARGET_PID and
# waits until a request through it succeeds. direct starts nothing.
start_target() {
  TARGET_PID=""
  case $1 in
    direct) return 0 ;;
    xdrproxy | xdrproxy-warn | xdrproxy-image)
      local level="" gc=()
      [ "$1" = xdrproxy-warn ] && level=warn
      [ "$1" = xdrproxy-image ] && read -r -a gc <<<"$(image_gc)"
      env "${gc[@]}" SSL_CERT_FILE="$work/ca.pem" XDRPROXY_AUTHORITY_HOST=$AUTH XDRPROXY_INSTANCE_DISCOVERY=false \
        XDRPROXY_UPSTREAM_URL=$UPSTREAM XDRPROXY_CLIENT_ID=$CLIENT_ID XDRPROXY_CLIENT_SECRET=$SECRET \
        XDRPROXY_TENANTS=contoso=$TENANT XDRPROXY_DEFAULT_TENANT=contoso XDRPROXY_RATE_LIMITS=off \
        ${level:+XDRPROXY_LOG_LEVEL=$level} ${BENCH_PROFILE:+XDRPROXY_PPROF=true} XDRPROXY_SHUTDOWN_TIMEOUT=1s \
        XDRPROXY_LISTEN_ADDR=127.0.0.1:$PROXY_PORT XDRPROXY_ADMIN_ADDR=127.0.0.1:$ADMIN_PORT \
        taskset -c $PROXY_CPU "$work/xdrproxy" >"$work/$1.log" 2>&1 & pids+=($!) ;;
    nginx) taskset -c $PROXY_CPU nginx -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" & pids+=($!) ;;
    haproxy) taskset -c $PROXY_CPU haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 & pids+=($!) ;;
    caddy)
      HOME=$work XDG_DATA_HOME=$work XDG_CONFIG_HOME=$work \
        taskset -c $PROXY_CPU caddy run --config "$work/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 & pids+=($!) ;;
  esac
  TARGET_PID=$!
  up "$1" "http://127.0.0.1:$PROXY_PORT$PATH_Q" -H 'X-Tenant-ID: contoso'
}

# image_gc: the GOGC=… and GOMEMLIMIT=… the Dockerfile's ENV lines set.
image_gc() { grep '^ENV ' Dockerfile | tr ' ' '\n' | grep -E '^(GOGC|GOMEMLIMIT)=' | tr '\n' ' '; }

# url NAME: where wrk sends its requests for NAME.
url() { if [ "$1" = direct ]; then echo "$UPSTREAM$PATH_Q"; else echo "http://127.0.0.1:$PROXY_PORT$PATH_Q"; fi; }

TIMEFORMAT='%3U %3S'
hz=$(getconf CLK_TCK)
# load NAME CONNS SECONDS: runs wrk; its BENCH line goes to $work/wrk.out
# and its CPU seconds to $work/wrk.cpu.
load() {
  local hdr=(-H 'X-Tenant-ID: contoso')
  [ "$1" = direct ] && hdr=(-H "Authorization: Bearer $TOKEN")
  { time taskset -c $LOAD_CPU wrk -t1 -c"$2" -d"$3"s "${hdr[@]}" -s bench/latency.lua "$(url "$1")" >"$work/wrk.out" 2>&1; } 2>"$work/wrk.time"
  awk '{print $1 + $2}' "$work/wrk.time" >"$work/wrk.cpu"
}
# field KEY: KEY's value in wrk's BENCH line.
field() { sed -n "s/.*[ ]$1=\([0-9]*\).*/\1/p" "$work/wrk.out"; }

# measure NAME: starts NAME, loads it at each connection count, stops it
# and sets LINE to its figures as KEY=VALUE (KEY_CONNS for per-count
# ones) and OTHER to the largest share (%) of the cores in use (CPU 1, and
# CPU 0 when a proxy runs there) that processes not ours took during a load.
measure() {
  local name=$1 c t0 o0 c0 t1 o1 c1 out
  start_target "$name"
  load "$name" 64 1 # warm-up: connections, pools
  LINE="" OTHER=0
  for c in "${CONNS[@]}"; do
    t0=$(target_ticks); o0=$(tree_ticks "$UPSTREAM_PID" "$SIM_PID"); c0=$(cpu_busy $PROXY_CPU $LOAD_CPU)
    local profiler=""
    if [ -n "${BENCH_PROFILE:-}" ] && [ "$c" = 64 ] && [[ $name == xdrproxy* ]]; then
      curl -s -o "$BENCH_PROFILE/$name-$c-r$rep.pprof" "http://127.0.0.1:$ADMIN_PORT/debug/pprof/profile?seconds=$((SECS > 1 ? SECS - 1 : 1))" & profiler=$!
    fi
    load "$name" "$c" "$SECS"
    [ -z "$profiler" ] || wait "$profiler"
    t1=$(target_ticks); o1=$(tree_ticks "$UPSTREAM_PID" "$SIM_PID"); c1=$(cpu_busy $PROXY_CPU $LOAD_CPU)
    out=$(awk -v c="$c" -v t=$((t1 - t0)) -v o=$((o1 - o0)) -v w="$(cat "$work/wrk.cpu")" -v hz="$hz" \
      -v r="$(field requests)" -v d="$(field duration_us)" -v a="$c0" -v b="$c1" -v both="${TARGET_PID:+1}" 'BEGIN{
        split(a, x, " "); split(b, y, " "); s = d / 1e6
        # Others on the proxy core count only when a proxy runs there.
        other = (both ? y[1] - x[1] : 0) + y[4] - x[4] - (t + o + w * hz)
        printf "rps_%d=%.0f cpu_%d=%.1f proxy_pct_%d=%.0f load_pct_%d=%.0f %d",
          c, r / s, c, t / hz * 1e6 / r, c, 100 * t / hz / s, c, 100 * (y[5] - x[5]) / (y[6] - x[6]),
          other < 0 ? 0 : 100 * other / ((both ? y[3] - x[3] : 0) + y[6] - x[6]) }')
    LINE+=" errors_$c=$(field errors) p50_$c=$(field p50) p99_$c=$(field p99) ${out% *}"
    [ "${out##* }" -le "$OTHER" ] || OTHER=${out##* }
  done
  LINE+=" rss=$([ -z "$TARGET_PID" ] && echo 0 || tree_rss_kib "$TARGET_PID")"
  [ -z "$TARGET_PID" ] || stop "$TARGET_PID"
}
# target_ticks: CPU ticks of the target and its descendants (0 for direct).
target_ticks() { if [ -z "$TARGET_PID" ]; then echo 0; else tree_ticks "$TARGET_PID"; fi; }

# point NAME: measures NAME until other processes took at most MAX_OTHER %
# of the cores in use, at most TRIES times; sets POINT to the quietest try's
# figures with tries=N.
point() {
  local try best="" best_other=101
  for ((try = 1; try <= TRIES; try++)); do
    measure "$1"
    if [ "$OTHER" -lt "$best_other" ]; then best=$LINE best_other=$OTHER; fi
    [ "$OTHER" -gt "$MAX_OTHER" ] && [ "$try" -lt "$TRIES" ] || break
    echo "$BENCH: $1: other processes took $OTHER% of the cores in use; measuring again" >&2
  done
  POINT="$best other=$best_other tries=$try"
}

# The paging rewriter must run: through xdrproxy, the upstream's nextLink
# names the proxy.
start_target xdrproxy
link=$(curl -s -H 'X-Tenant-ID: contoso' "$(url xdrproxy)" | sed -n 's/.*"@odata.nextLink":"\([^"]*\)".*/\1/p')
stop "$TARGET_PID"
case $link in
  http://127.0.0.1:$PROXY_PORT/*) ;;
  *) echo "$BENCH: xdrproxy did not rewrite the upstream's nextLink (got '$link')" >&2; exit 1 ;;
esac

TARGETS=(direct xdrproxy xdrproxy-warn xdrproxy-image nginx haproxy caddy)
[ "$(image_gc | wc -w)" = 2 ] || { echo "$BENCH: no GOGC and GOMEMLIMIT in the Dockerfile's ENV lines for xdrproxy-image" >&2; exit 1; }
if [ -n "${BENCH_TARGETS:-}" ]; then
  for name in $BENCH_TARGETS; do
    [[ " ${TARGETS[*]} " == *" $name "* ]] || { echo "$BENCH: BENCH_TARGETS: no target $name (${TARGETS[*]})" >&2; exit 2; }
  done
  read -r -a TARGETS <<<"direct nginx $(tr ' ' '\n' <<<"$BENCH_TARGETS" | grep -vx 'direct\|nginx' | tr '\n' ' ')"
fi
[ -z "${BENCH_PROFILE:-}" ] || mkdir -p "$BENCH_PROFILE"
declare -A R
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((rep = 1; rep <= REPEATS; rep++)); do
  for ((k = 0; k < ${#TARGETS[@]}; k++)); do
    name=${TARGETS[$(((k + rep - 1) % ${#TARGETS[@]}))]}
    point "$name"
    R[$name,$rep]=$POINT
    echo "$BENCH: repeat $rep $name:$POINT" >&2
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- Report ----------------------------------------------------------------
# values KEY NAME: one figure of a target, one line per repeat.
values() { local rep; for ((rep = 1; rep <= REPEATS; rep++)); do tr ' ' '\n' <<<"${R[$2,$rep]}" | sed -n "s/^$1=//p"; done; }
# added KEY NAME: NAME's figures minus direct's median (a burst of other
# work in one direct point would otherwise shift one repeat's difference).
added() { values "$1" "$2" | awk -v d="$(median "$1" direct)" '{print $1 - d}'; }
# summary CMD...: "median (min–max)" of the lines CMD prints, rounded:
# to 0.1 for CPU µs, to integers for the rest.
summary() {
  local v f=%.0f; v=$("$@"); [[ $2 == cpu_* ]] && f=%.1f
  printf "$f ($f–$f)\n" "$(med <<<"$v")" "$(sort -g <<<"$v" | head -1)" "$(sort -g <<<"$v" | tail -1)"
}
median() { values "$@" | med; }
round() { awk '{printf "%.0f\n", $1}'; }
signed() { sed 's/^\([0-9]\)/+\1/; s/(\([0-9]\)/(+\1/; s/–\([0-9]\)/–+\1/'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }
total() { local name t=0; for name in "${TARGETS[@]}"; do t=$((t + $(values "$1" "$name" | awk '{s += $1} END {print s + 0}'))); done; echo $t; }

echo
echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(uname -r); $(go version | cut -d' ' -f3);" \
  "xdrproxy $(git describe --always --dirty 2>/dev/null || echo '?'), nginx $(nginx -v 2>&1 | cut -d/ -f2), HAProxy $(haproxy -v | head -1 | cut -d' ' -f3), Caddy $(caddy version | cut -d' ' -f1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)."
echo "Command: ${BENCH_NICE:+BENCH_NICE=$BENCH_NICE }bench/run proxy-bound $SECS $REPEATS"
echo "Setup: loopback; the proxy under test alone on CPU $PROXY_CPU; wrk (1 thread), the upstream nginx (fixed ~0.5 KB JSON page with an absolute" \
  "@odata.nextLink, plain HTTP) and xdrsim (Entra ID only) on CPU $LOAD_CPU; ${SECS}s at 1 and at 64 keep-alive connections per point after a 1s warm-up;" \
  "$REPEATS interleaved repeats (order rotated), median (min–max); load average $load_before before, $load_after after."
echo
echo "| target | CPU µs/req, 64 conns | ÷ nginx | CPU µs/req, 1 conn | req/s, 64 conns | ÷ nginx | one core's req/s (10⁶ ÷ CPU µs/req) | ÷ nginx | added p50 µs, 1 conn | added p99 µs, 1 conn | added p50 µs, 64 conns | added p99 µs, 64 conns | RSS MiB | CPU0 % proxy / CPU1 % load, 64 conns |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for name in "${TARGETS[@]}"; do
  if [ "$name" = direct ]; then
    echo "| direct (upstream, no proxy) | – | – | – | $(summary values rps_64 direct) | – | – | – | p50 $(summary values p50_1 direct) | p99 $(summary values p99_1 direct) |" \
      "p50 $(summary values p50_64 direct) | p99 $(summary values p99_64 direct) | – | –/$(median load_pct_64 direct | round) |"
    continue
  fi
  echo "| $name | $(summary values cpu_64 "$name") | $(ratio "$(median cpu_64 "$name")" "$(median cpu_64 nginx)") | $(summary values cpu_1 "$name") |" \
    "$(summary values rps_64 "$name") | $(ratio "$(median rps_64 "$name")" "$(median rps_64 nginx)") |" \
    "$(awk -v c="$(median cpu_64 "$name")" 'BEGIN{printf "%.0f", 1e6 / c}') | $(ratio "$(median cpu_64 nginx)" "$(median cpu_64 "$name")") |" \
    "$(summary added p50_1 "$name" | signed) | $(summary added p99_1 "$name" | signed) | $(summary added p50_64 "$name" | signed) | $(summary added p99_64 "$name" | signed) |" \
    "$(awk -v k="$(median rss "$name")" 'BEGIN{printf "%.0f", k / 1024}') | $(median proxy_pct_64 "$name" | round)/$(median load_pct_64 "$name" | round) |"
done
echo
echo "- Direct latencies are absolute (µs); the other rows' are added to direct's median. Measured req/s stops at what CPU 1 (wrk and the upstream)" \
  "can drive, direct's req/s at most: a proxy whose CPU0 % stays below 100 was not the bottleneck, and one core's req/s is what the proxy's CPU time per request allows."
echo "- nginx, HAProxy and Caddy write no access log;" \
  "xdrproxy (default) writes one line per request to a file; the xdrproxy rows run with XDRPROXY_RATE_LIMITS=off;" \
  "xdrproxy-image with the image's $(image_gc | sed 's/ $//')."

echo "- Checks: socket errors + non-2xx answers $(($(total errors_1) + $(total errors_64))) (should be 0); the nextLink came back rewritten to the proxy through xdrproxy."
echo "- Points measured again because other processes took more than $MAX_OTHER% of the cores in use: $(($(total tries) - REPEATS * ${#TARGETS[@]}));" \
  "their share during the kept tries, median $(for n in "${TARGETS[@]}"; do values other "$n"; done | med)%, max $(for n in "${TARGETS[@]}"; do values other "$n"; done | sort -g | tail -1)%."
