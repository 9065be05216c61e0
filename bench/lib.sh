# shellcheck shell=bash disable=SC2034 # SIM_PID, UPSTREAM_PID: for the scripts that source this
# Shell helpers shared by the benchmark scripts (bench/run, bench/fleet,
# bench/proxybound.sh); sourced, not run. The script sets BENCH (its name,
# for messages) before sourcing this file.
#
# Processes: every long-lived process a script starts goes to the
# background with `& pids+=($!)`, and the script measures and stops it by
# that PID. It never looks processes up by name (pgrep, pkill -f): a name
# can match a process it did not start.

export PATH="$PATH:/usr/local/go/bin:/usr/sbin"

# install_missing CMD:PACKAGE...: installs, from Debian's packages, each
# PACKAGE whose CMD is not on PATH.
install_missing() {
  local need=() pair
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}"); done
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# counts_or_usage MAX NARGS VALUE...: unless the script got at most MAX
# arguments (it got NARGS) and every VALUE is a whole number above 0,
# prints the script's top comment (its usage) and exits 2.
counts_or_usage() {
  local max=$1 nargs=$2 v; shift 2
  for v in "$@"; do [[ $v =~ ^[1-9][0-9]*$ ]] || nargs=$((max + 1)); done
  [ "$nargs" -le "$max" ] && return 0
  sed -n '2,/^[^#]/{/^[^#]/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
}

work=$(mktemp -d)
pids=()
# forget PID: drop it from pids once it has exited, so cleanup never
# signals a number the system may have given to another process.
forget() { local keep=() p; for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; pids=("${keep[@]}"); }
# stop PID...: ends processes this shell started and waits for them.
stop() { local p; for p in "$@"; do kill "$p" 2>/dev/null || true; done; for p in "$@"; do wait "$p" 2>/dev/null || true; forget "$p"; done; }
cleanup() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -gt 0 ] && stop "${pids[@]}"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ports_free BASE COUNT: stops the run if a port from BASE on is taken.
ports_free() {
  local port
  for ((port = $1; port < $1 + $2; port++)); do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
      echo "$BENCH: port $port is taken; set BENCH_PORT_BASE" >&2; exit 1
    fi
  done
}

# up NAME URL [CURL-ARGS]: waits until URL answers 200, else shows the
# logs and stops the run.
up() {
  local name=$1 url=$2; shift 2
  for _ in $(seq 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url")" = 200 ] && return 0; sleep 0.1; done
  echo "$BENCH: $name does not answer 200 at $url:" >&2; curl -s -i "$@" "$url" >&2
  tail -n 20 "$work"/*.log "$work"/*/error.log >&2 2>/dev/null
  exit 1
}

# start_xdrsim CPU PORT [ARGS...]: the simulator (its CA in $work/ca.pem)
# pinned to CPU; sets SIM_PID and waits until it answers.
start_xdrsim() {
  local cpu=$1 port=$2; shift 2
  [ -x "$work/xdrsim" ] || go build -o "$work/xdrsim" ./cmd/xdrsim
  taskset -c "$cpu" "$work/xdrsim" -addr 127.0.0.1:"$port" -ca-file "$work/ca.pem" "$@" >"$work/xdrsim.log" 2>&1 & pids+=($!); SIM_PID=$!
  for _ in $(seq 100); do curl -s --cacert "$work/ca.pem" https://127.0.0.1:"$port"/ >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$BENCH: the simulator did not start:" >&2; cat "$work/xdrsim.log" >&2; exit 1
}

# incidents_json [NEXTLINK]: a small Defender incidents page, ending in
# @odata.nextLink when one is given.
incidents_json() {
  printf '%s' '{"@odata.context":"https://api.security.microsoft.com/api/metadata#Incidents","value":[{"incidentId":924565,"redirectIncidentId":null,"incidentName":"Initial access incident involving one user","createdTime":"2024-05-01T08:20:12.5Z","lastUpdateTime":"2024-05-01T09:11:30.25Z","assignedTo":null,"classification":"Unknown","determination":"NotAvailable","status":"Active","severity":"Medium","tags":[],"comments":[],"alerts":[]}]'
  [ -z "${1:-}" ] || printf ',"@odata.nextLink":"%s"' "$1"
  printf '}'
}

# start_upstream_nginx CPU PORT BODY [bearer]: nginx pinned to CPU, in one
# process, answering BODY as JSON on /api/incidents over plain HTTP, with
# no limit on requests per connection; with "bearer", a request without
# an "Authorization: Bearer" header gets a 401 instead. Sets UPSTREAM_PID
# and waits until it answers.
start_upstream_nginx() {
  local cpu=$1 port=$2 body=${3//\$/\$\{dollar\}} dir=$work/upstream-nginx check="" curl_args=()
  if [ "${4:-}" = bearer ]; then
    check='if ($http_authorization !~ "^Bearer ") { return 401; }'
    curl_args=(-H "Authorization: Bearer up")
  fi
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
master_process off;
daemon off;
worker_processes 1;
user root;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  # \${dollar} writes a literal \$ in the body (OData's \$top, \$skip).
  geo \$dollar { default "\$"; }
  server {
    listen 127.0.0.1:$port;
    location /api/incidents { default_type application/json; $check return 200 '$body'; }
  }
}
CONF
  taskset -c "$cpu" nginx -c "$dir/nginx.conf" -e "$dir/error.log" & pids+=($!); UPSTREAM_PID=$!
  up "the upstream nginx" "http://127.0.0.1:$port/api/incidents" "${curl_args[@]}"
}

# proc_stat PID: the fields of /proc/PID/stat after "pid (comm) ", where a
# command name may hold spaces: 1 state, 2 ppid, 12 utime, 13 stime,
# 14 cutime, 15 cstime (in clock ticks).
proc_stat() { local line; { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1; echo "${line##*) }"; }
# cpu_ticks PID: user + system CPU time of the process, in clock ticks.
cpu_ticks() { proc_stat "$1" | awk '{t = $12 + $13} END {print t + 0}'; }
# sum_ticks PID...: cpu_ticks of the processes, summed.
sum_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(cpu_ticks "$p"))); done; echo $t; }
# tree_pids PID: PID and every process descended from it (the workers an
# nginx master forks), found through each process's parent in /proc.
tree_pids() {
  local f line
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    line=${line##*) } && line=${line#* } && f=${f#/proc/}
    echo "${f%/stat} ${line%% *}"
  done | awk -v root="$1" '{ kids[$2] = kids[$2] " " $1 }
    END { queue[1] = root; n = 1
      for (i = 1; i <= n; i++) { print queue[i]; m = split(kids[queue[i]], k, " "); for (j = 1; j <= m; j++) queue[++n] = k[j] } }'
}
# tree_ticks PID...: CPU time of each PID and its descendants, with the
# children it has already reaped, in clock ticks.
tree_ticks() {
  local t=0 root p
  for root in "$@"; do
    t=$((t + $(proc_stat "$root" | awk '{t = $14 + $15} END {print t + 0}')))
    for p in $(tree_pids "$root"); do t=$((t + $(cpu_ticks "$p"))); done
  done
  echo $t
}
# tree_rss_kib PID...: resident memory (VmRSS) of each PID and its
# descendants, summed, in KiB (pages they share count once per process).
tree_rss_kib() {
  local k=0 root p
  for root in "$@"; do
    for p in $(tree_pids "$root"); do k=$((k + $(awk '/^VmRSS/ {k = $2} END {print k + 0}' "/proc/$p/status" 2>/dev/null || echo 0))); done
  done
  echo $k
}
# cpu_busy [A B]: "proc0 busy0 total0 proc1 busy1 total1" in ticks from
# /proc/stat for CPUs A and B (default 0 and 1): time in processes, busy
# including interrupts, and all.
cpu_busy() {
  awk -v a="cpu${1:-0}" -v b="cpu${2:-1}" '$1 == a {x = $0} $1 == b {y = $0}
    END { n = split(x " " y, f, " "); for (i = 0; i < 2; i++) { o = i * 11
      p = f[o + 2] + f[o + 3] + f[o + 4]; bz = p + f[o + 7] + f[o + 8]; printf "%d %d %d ", p, bz, bz + f[o + 5] + f[o + 6] } }' /proc/stat
}

# med: the median of the numbers on stdin, one a line.
med() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# spread: "min–max" of the numbers on stdin.
spread() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "–" hi}'; }
