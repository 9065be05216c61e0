#!/usr/bin/env bash
# bench/run herd [tenants, default 10000] [repeats, default 3]
#
# The cold herd, cached and fresh side by side. xdrproxy serves N tenants
# of the simulator (on its own core; the simulator and the herd share the
# other). Each round restarts the proxy and, while its start-up warm-up is
# still acquiring tokens, sends 1,000 simultaneous requests, each on a new
# connection (bench/herd), for one tenant:
#
#   cached  the tenant the warm-up reaches first, once /readyz?tenant says
#           its token is held;
#   fresh   the tenant the warm-up reaches last, while /readyz?tenant says
#           its token is not held yet: every request waits for the one
#           token request the herd causes.
#
# N must be large enough (a few thousand) for the warm-up to still be
# running when the fresh herd starts; the run stops, saying so, if not.
# Both herds meet the same load (the warm-up, new client and upstream
# connections); they differ by the token only. The cases alternate, and the
# table gives medians with (min–max) over the repeats, the token requests
# the fresh herd caused, one token round trip (curl, new TLS connection) and
# the target of issue 17: fresh p99 ≤ cached p99 + one round trip + 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH="bench/run herd"
source bench/lib.sh
N=${1:-10000}
REPEATS=${2:-3}
counts_or_usage 2 $# "$N" "$REPEATS"
install_missing curl:curl
ports_free 18080 3

PROXY_CPU=0; OTHER_CPU=$(( $(nproc) > 1 ? 1 : 0 ))
go build -o "$work/xdrproxy" ./cmd/xdrproxy
go build -o "$work/herd" ./bench/herd

SIM_PORT=18443
ports_free $SIM_PORT 1
start_xdrsim $OTHER_CPU $SIM_PORT -bench-tenants "$N"
UP=https://127.0.0.1:$SIM_PORT
CLIENT_ID=00000000-5eed-4a11-b0b0-00000000c11e
SECRET=xdrsim-demo-secret-not-for-production
for i in $(seq "$N"); do printf '%08x-0000-4000-8000-000000000000\n' "$i"; done >"$work/tenants"
FIRST=$(printf '%08x-0000-4000-8000-000000000000' 1)
LAST=$(printf '%08x-0000-4000-8000-000000000000' "$N")
PROXY=127.0.0.1:18081
ADMIN=127.0.0.1:18082

start_proxy() {
  SSL_CERT_FILE="$work/ca.pem" XDRPROXY_AUTHORITY_HOST=$UP XDRPROXY_INSTANCE_DISCOVERY=false \
    XDRPROXY_UPSTREAM_URL=$UP XDRPROXY_CLIENT_ID=$CLIENT_ID XDRPROXY_CLIENT_SECRET=$SECRET \
    XDRPROXY_TENANTS_FILE="$work/tenants" XDRPROXY_RATE_LIMITS=off \
    XDRPROXY_LISTEN_ADDR=$PROXY XDRPROXY_ADMIN_ADDR=$ADMIN XDRPROXY_LOG_LEVEL=warn XDRPROXY_SHUTDOWN_TIMEOUT=1s \
    taskset -c $PROXY_CPU "$work/xdrproxy" >>"$work/xdrproxy.log" 2>&1 & pids+=($!); XDRPROXY_PID=$!
  for _ in $(seq 200); do curl -s -o /dev/null "http://$ADMIN/healthz" && return 0; sleep 0.05; done
  echo "$BENCH: xdrproxy did not start:" >&2; tail -n 20 "$work/xdrproxy.log" >&2; exit 1
}

# ready TENANT: prints the HTTP status of /readyz?tenant=TENANT.
ready() { curl -s -o /dev/null -w '%{http_code}' "http://$ADMIN/readyz?tenant=$1"; }

# tokens TENANT: successful token acquisitions for TENANT so far.
tokens() {
  curl -s "http://$ADMIN/metrics" | awk -v t="$1" '/^xdrproxy_token_acquisitions_total/ && index($0, t) && /success/ {s += $2} END {print s + 0}'
}

# herd CASE: one round of CASE (cached or fresh); appends "p50 p99 max ok
# tokens" to $work/CASE.
herd() {
  local case=$1 tenant want
  start_proxy
  if [ "$case" = cached ]; then
    tenant=$FIRST
    for _ in $(seq 400); do [ "$(ready "$tenant")" = 200 ] && break; sleep 0.01; done
    want=200
  else
    tenant=$LAST; want=503
  fi
  local got; got=$(ready "$tenant")
  if [ "$got" != "$want" ]; then
    echo -n "$BENCH: $case herd: /readyz?tenant answered $got before the herd, want $want" >&2
    [ "$case" = fresh ] && echo -n " (the warm-up reached the last tenant already: use more tenants)" >&2
    echo >&2; exit 1
  fi
  local before; before=$(tokens "$tenant")
  local out; out=$(taskset -c $OTHER_CPU "$work/herd" -n 1000 -tenant "$tenant" -url "http://$PROXY/api/incidents?\$top=1")
  [ "$(ready "$tenant")" = 200 ] || { echo "$BENCH: $case herd: the tenant is not ready after it" >&2; exit 1; }
  local after; after=$(tokens "$tenant")
  stop $XDRPROXY_PID
  # HERD ok=N of M p50=A p99=B max=C
  awk -v tok=$((after - before)) '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}} END {print v["p50"], v["p99"], v["max"], v["ok"], tok}' <<<"$out" >>"$work/$case"
}

for r in $(seq "$REPEATS"); do
  if [ $((r % 2)) = 1 ]; then herd cached; herd fresh; else herd fresh; herd cached; fi
done

rtts=()
for _ in 1 2 3 4 5; do
  rtts+=("$(curl -s -o /dev/null -w '%{time_total}' --cacert "$work/ca.pem" -d grant_type=client_credentials -d client_id=$CLIENT_ID \
    --data-urlencode client_secret=$SECRET -d scope=https://api.security.microsoft.com/.default "$UP/$LAST/oauth2/v2.0/token")")
done
RTT=$(printf '%s\n' "${rtts[@]}" | awk '{print $1 * 1000}' | med)

col() { awk -v c="$2" '{print $c}' "$work/$1"; }
cell() { echo "$(col "$1" "$2" | med) ($(col "$1" "$2" | spread))"; }
echo "Cold herd: 1,000 simultaneous requests on new connections, $N tenants warming up, $REPEATS rounds a case (ms; median (min–max))"
echo
echo "| tenant | p50 ms | p99 ms | max ms | answered 200 | token requests caused |"
echo "|---|---|---|---|---|---|"
for c in cached fresh; do
  echo "| $c | $(cell $c 1) | $(cell $c 2) | $(cell $c 3) | $(col $c 4 | sort -g | head -1)–$(col $c 4 | sort -g | tail -1) of 1000 | $(col $c 5 | sort -g | tail -1) (most) |"
done
CACHED=$(col cached 2 | med); FRESH=$(col fresh 2 | med)
echo
echo "One token round trip (curl, new TLS connection, median of 5): $RTT ms."
awk -v f="$FRESH" -v c="$CACHED" -v r="$RTT" 'BEGIN {t = c + r + 50; printf "Target: fresh p99 %.1f ms ≤ cached p99 %.1f + %.1f + 50 = %.1f ms: %s\n", f, c, r, t, (f <= t) ? "met" : sprintf("missed by %.1f ms", f - t)}'
