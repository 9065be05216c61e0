#!/usr/bin/env bash
# Soak on loopback: normal keyed load (GET /api/incidents?$top=1, 16
# keep-alive workers) through xdrproxy for SECONDS, first alone, then while
# ATTACKERS slowloris-style clients hold connections open and reconnect as
# soon as the proxy closes them (a third each: a body announced and never
# sent, headers never finished, nothing sent at all). Prints a markdown
# table of both runs and a verdict: normal traffic is unaffected when its
# p99 stays within 2× of the run without attack and no request fails.
# Usage: bench/soak.sh [seconds, default 60] [attackers, default 2000]
# Environment: MAXCONN (XDRPROXY_MAX_CONNECTIONS, default 500), WORKERS
# (default 16), RECONNECT_DELAY (attackers' pause before reconnecting, default 0).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin"
SECS=${1:-60}
ATTACKERS=${2:-2000}
MAXCONN=${MAXCONN:-500}
WORKERS=${WORKERS:-16}
RECONNECT_DELAY=${RECONNECT_DELAY:-0}

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap "exit 130" INT
trap "exit 143" TERM

# The attackers hold thousands of sockets: raise the open-file limit (for
# this shell and what it starts) as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true

# CPU 0 for the proxy under test, CPU 1 for the simulator and the soak (where there are two).
PROXY_CPU=0; OTHER_CPU=$(( $(nproc) > 1 ? 1 : 0 ))

go build -o "$work/xdrsim" ./cmd/xdrsim
go build -o "$work/xdrproxy" ./cmd/xdrproxy
go build -o "$work/soak" ./bench/soak

# free_port: a loopback TCP port below the ephemeral range (so no outgoing
# connection can take it meanwhile) that no socket uses now.
low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range); [ "$low" -gt 11000 ] || low=11000
free_port() {
  local p
  while :; do
    p=$(( 10000 + RANDOM % (low - 10000) ))
    [ -z "$(ss -Htan "sport = :$p")" ] && { echo $p; return; }
  done
}
SIM_PORT=$(free_port); PROXY_PORT=$(free_port); ADMIN_PORT=$(free_port)
[ $SIM_PORT != $PROXY_PORT ] && [ $SIM_PORT != $ADMIN_PORT ] && [ $PROXY_PORT != $ADMIN_PORT ] ||
  { echo "soak: picked one port twice; run again" >&2; exit 1; }

taskset -c $OTHER_CPU "$work/xdrsim" -addr 127.0.0.1:$SIM_PORT -ca-file "$work/ca.pem" >"$work/xdrsim.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -s --cacert "$work/ca.pem" https://127.0.0.1:$SIM_PORT/ >/dev/null 2>&1 && break; sleep 0.1; done
UP=https://127.0.0.1:$SIM_PORT
CLIENT_ID=00000000-5eed-4a11-b0b0-00000000c11e
SECRET=xdrsim-demo-secret-not-for-production
TENANT=11111111-1111-4111-8111-111111111111

# One client key, allowed every tenant; the file holds only its hash.
KEY=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
echo "$(printf %s "$KEY" | sha256sum | cut -d' ' -f1) *" >"$work/client-keys"

SSL_CERT_FILE="$work/ca.pem" XDRPROXY_AUTHORITY_HOST=$UP XDRPROXY_INSTANCE_DISCOVERY=false \
  XDRPROXY_UPSTREAM_URL=$UP XDRPROXY_CLIENT_ID=$CLIENT_ID XDRPROXY_CLIENT_SECRET=$SECRET \
  XDRPROXY_TENANTS=contoso=$TENANT XDRPROXY_DEFAULT_TENANT=contoso XDRPROXY_RATE_LIMITS=off \
  XDRPROXY_CLIENT_KEYS_FILE="$work/client-keys" XDRPROXY_MAX_CONNECTIONS=$MAXCONN \
  XDRPROXY_LISTEN_ADDR=127.0.0.1:$PROXY_PORT XDRPROXY_ADMIN_ADDR=127.0.0.1:$ADMIN_PORT XDRPROXY_LOG_LEVEL=warn \
  taskset -c $PROXY_CPU "$work/xdrproxy" >"$work/xdrproxy.log" 2>&1 & pids+=($!); XDRPROXY_PID=$!
ready=
for _ in $(seq 200); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$ADMIN_PORT/readyz)" = 200 ] && { ready=1; break; }
  kill -0 $XDRPROXY_PID 2>/dev/null || break
  sleep 0.1
done
[ -n "$ready" ] || { echo "soak: xdrproxy never became ready:" >&2; cat "$work/xdrproxy.log" >&2; exit 1; }

soak() { # NAME ATTACKERS → JSON result in $work/NAME.json
  SOAK_KEY=$KEY taskset -c $OTHER_CPU "$work/soak" -json -label "$1" -a "$2" -c "$WORKERS" -d "${SECS}s" \
    -reconnect-delay "$RECONNECT_DELAY" -pid $XDRPROXY_PID \
    -url "http://127.0.0.1:$PROXY_PORT/api/incidents?\$top=1" >"$work/$1.json"
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
soak "no attack" 0
soak "$ATTACKERS attackers" "$ATTACKERS"

echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); $(go version | cut -d' ' -f3);" \
  "${SECS}s per run, $WORKERS workers, XDRPROXY_MAX_CONNECTIONS=$MAXCONN, open-file limit $(ulimit -n); load average before: $load_before"
echo
"$work/soak" -report "$work/no attack.json" "$work/$ATTACKERS attackers.json"
if grep -qi 'panic\|fatal' "$work/xdrproxy.log"; then
  echo; echo "xdrproxy log:"; tail -20 "$work/xdrproxy.log"
fi
