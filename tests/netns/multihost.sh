#!/bin/bash
# multihost.sh — monas across hosts, with Linux network namespaces as the hosts:
# monasd in one namespace, workers in two others, joined by veth pairs to a bridge that
# lives in a fourth ("switch") namespace, addresses from the benchmarking range
# 198.18.0.0/15. Nothing is added to the caller's namespace, so no traffic leaves
# these namespaces and concurrent runs do not collide. It shows:
#   1. a request without a token, or with a worker token on an admin route, is refused
#      (401 / 403) from another host; the worker token is accepted on leases;
#   2. monasd without tokens refuses to listen on a non-loopback address;
#   3. a worker whose token lacks the worker scope is refused and exits 4; workers on
#      the other hosts join with the worker token and complete a job, both scoring;
#   4. cutting a worker's link mid-batch (ip link set down): its lease expires, the
#      other worker scores the batch, the job still completes with every candidate
#      scored once.
# Usage (from the checkout root): tests/netns/multihost.sh [BIN_DIR]   (default build)
# Prints SKIP and exits 0 where namespaces cannot be created (not root, no permission).
# Bounded: gives up after 110 s. Removes its namespaces, processes and files on every
# exit path.
set -u

BIN=$(cd "${1:-${MONAS_BIN_DIR:-build}}" && pwd) || exit 1
SV=$(sed -n 's/^#define MN_SCORING_VERSION "\(.*\)"/\1/p' "$(dirname "$0")/../../common/scoring.h")
LIMIT=110
ID="mn$$"
NS_SW="$ID-sw" NS_SRV="$ID-srv" NS_W1="$ID-w1" NS_W2="$ID-w2"
SRV_IP=198.18.0.1 W1_IP=198.18.0.11 W2_IP=198.18.0.12
PORT=8080
URL="http://$SRV_IP:$PORT"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/monas-netns.XXXXXX")
CREATED=()
PIDS=()
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

say() { echo "netns: $*"; }

cleanup() {
    trap - EXIT INT TERM
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for _ in $(seq 50); do
        local alive=0
        for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    for ns in "${CREATED[@]}"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

skip() {
    echo "SKIP netns multi-host test: $*"
    exit 0
}

fail() {
    echo "FAIL netns: $*"
    for f in "$TMP"/*.log; do
        [ -f "$f" ] && { echo "--- last lines of $(basename "$f")"; tail -n 15 "$f"; }
    done
    exit 1
}

# Fails once the whole test has run LIMIT seconds.
budget() {
    [ "$SECONDS" -lt "$LIMIT" ] || fail "out of time ($LIMIT s) while $1"
}

# on NS CMD...: runs CMD in namespace NS.
on() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

# http NS METHOD PATH TOKEN [BODY]: prints the HTTP status; the body goes to $TMP/body.
http() {
    local ns=$1 method=$2 path=$3 token=$4 body=${5-}
    local args=(-s -m 10 -o "$TMP/body" -w '%{http_code}' -X "$method")
    [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
    on "$ns" curl "${args[@]}" "$URL$path"
}

# jget PATH: the value at a dotted path of the JSON in $TMP/body ("" if absent).
jget() {
    "$PY" - "$1" "$TMP/body" <<'EOF'
import json, sys
try:
    v = json.load(open(sys.argv[2]))
    for k in sys.argv[1].split("."):
        v = v[int(k)] if isinstance(v, list) else v[k]
    print(v)
except Exception:
    print("")
EOF
}

# expect WHAT WANT GOT
expect() {
    [ "$2" = "$3" ] || fail "$1: got $3, want $2"
    say "ok: $1 -> $3"
}

# metric NAME: the value of an unlabelled metric of monasd (with the read token).
metric() {
    on "$NS_SRV" curl -s -m 5 -H "Authorization: Bearer $READ" "$URL/metrics" |
        awk -v n="$1" '$1 == n { print $2 }'
}

# wait_job ID: waits (long polls) until job ID is no longer running; prints its status.
wait_job() {
    local st status
    while :; do
        budget "waiting for job $1"
        st=$(http "$NS_SRV" GET "/v1/jobs/$1?wait=5" "$READ")
        [ "$st" = 200 ] || fail "GET /v1/jobs/$1: status $st"
        status=$(jget status)
        [ "$status" != running ] && break
    done
    echo "$status"
}

# ------------------------------------------------------------------ preconditions
[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces (uid $(id -u))"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
command -v curl >/dev/null || skip "curl is not installed"
[ -x "$BIN/monasd" ] || fail "no $BIN/monasd (run make)"
if ! ip netns add "$NS_SW" 2>"$TMP/err"; then
    skip "cannot create a network namespace: $(cat "$TMP/err")"
fi
CREATED+=("$NS_SW")
ip netns exec "$NS_SW" true 2>"$TMP/err" || skip "cannot enter a network namespace: $(cat "$TMP/err")"

# ------------------------------------------------------------------ the network
setup_network() {
    ip -n "$NS_SW" link add br0 type bridge || return 1
    ip -n "$NS_SW" link set br0 up || return 1
    local host ip ns
    for host in srv:$SRV_IP w1:$W1_IP w2:$W2_IP; do
        ns="$ID-${host%%:*}" ip=${host#*:}
        ip netns add "$ns" || return 1
        CREATED+=("$ns")
        ip -n "$ns" link add eth0 type veth peer name "${host%%:*}" netns "$NS_SW" || return 1
        ip -n "$NS_SW" link set "${host%%:*}" master br0 up || return 1
        ip -n "$ns" addr add "$ip/24" dev eth0 || return 1
        ip -n "$ns" link set eth0 up || return 1
        ip -n "$ns" link set lo up || return 1
    done
}
setup_network 2>"$TMP/err" || skip "cannot build the virtual network: $(cat "$TMP/err")"
say "hosts: monasd $SRV_IP ($NS_SRV), workers $W1_IP ($NS_W1) and $W2_IP ($NS_W2)"

# ------------------------------------------------------------------ tokens, monasd
rand() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
ADMIN=$(rand) WORKER=$(rand) READ=$(rand)
printf '%s admin\n%s worker\n%s read\n' "$ADMIN" "$WORKER" "$READ" >"$TMP/tokens"
printf '%s\n' "$WORKER" >"$TMP/worker-token"
chmod 600 "$TMP/tokens" "$TMP/worker-token"
# The daemons must not pick up settings from the caller's environment.
CLEAN_ENV=(env -u MONAS_TOKENS -u MONAS_TOKENS_FILE -u MONAS_INSECURE -u MONAS_LISTEN
           -u MONAS_DB -u MONAS_COORDINATOR -u MONAS_TOKEN_FILE)

# Background processes run as `ip netns exec` directly (not through a function, which
# would fork a subshell): ip execs the command, so $! is the daemon's own pid.
ip netns exec "$NS_SRV" "${CLEAN_ENV[@]}" "$BIN/monasd" --listen "$SRV_IP:$PORT" \
    --db "$TMP/monas.db" --tokens-file "$TMP/tokens" --reap-interval-ms 200 \
    >"$TMP/monasd.log" 2>&1 &
PIDS+=($!)
until [ "$(http "$NS_W1" GET /healthz "")" = 200 ]; do
    kill -0 "${PIDS[0]}" 2>/dev/null || fail "monasd exited"
    budget "waiting for monasd"
    sleep 0.1
done
say "monasd answers on $URL from worker host 1"

# ------------------------------------------------------------------ 1. tokens
JOB='{"name":"netns","space":{"name":"nb201"},"budget":{"max_candidates":4}}'
expect "GET /v1/jobs without a token" 401 "$(http "$NS_W1" GET /v1/jobs "")"
expect "GET /metrics without a token" 401 "$(http "$NS_W1" GET /metrics "")"
expect "POST /v1/jobs with a worker token" 403 "$(http "$NS_W1" POST /v1/jobs "$WORKER" "$JOB")"
expect "POST /v1/jobs with a read token" 403 "$(http "$NS_W1" POST /v1/jobs "$READ" "$JOB")"
expect "POST /v1/jobs with an unknown token" 401 \
    "$(http "$NS_W1" POST /v1/jobs "not-a-token-at-all" "$JOB")"
expect "POST /v1/leases with a worker token, no job" 204 \
    "$(http "$NS_W2" POST /v1/leases "$WORKER" '{"worker_id":"probe","scoring_version":"'"$SV"'"}')"
expect "GET /v1/jobs with a read token" 200 "$(http "$NS_W2" GET /v1/jobs "$READ")"

# ------------------------------------------------------------------ 2. no tokens, no network
on "$NS_SRV" "${CLEAN_ENV[@]}" timeout 10 "$BIN/monasd" --listen "$SRV_IP:8081" \
    --db "$TMP/open.db" >"$TMP/open.out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "monasd without tokens on $SRV_IP: exit $rc, want a refusal"
[ "$(on "$NS_W1" curl -s -m 2 -o /dev/null -w '%{http_code}' "http://$SRV_IP:8081/healthz")" = 000 ] ||
    fail "something answers on $SRV_IP:8081"
msg=$(grep -m 1 '^monasd: ' "$TMP/open.out")
case "$msg" in *token*) ;; *) fail "monasd without tokens: no message about tokens: $msg" ;; esac
say "ok: monasd without tokens on $SRV_IP refused to start (exit $rc): $msg"

# ------------------------------------------------------------------ 3. workers join
"$BIN/monas-worker" run --help >/dev/null 2>&1 || fail "monas-worker has no run command"

# worker NS ID [OPTIONS...]: starts a worker in namespace NS; its pid goes to PIDS.
# Counting proxies keep scoring cheap; --score-delay-ms (a test option) makes each
# candidate take a known time so that a batch is in flight long enough to cut.
worker() {
    local ns=$1 id=$2
    shift 2
    ip netns exec "$ns" "${CLEAN_ENV[@]}" "$BIN/monas-worker" run --coordinator "$URL" \
        --token-file "$TMP/worker-token" --id "$id" --threads 1 --batch 4 \
        --backoff-max-ms 300 --request-timeout-ms 3000 --drain-seconds 1 "$@" \
        >>"$TMP/$id.log" 2>&1 &
    PIDS+=($!)
}

# stop_pid PID: SIGTERM and wait (a worker exits 0 after finishing its batch).
stop_pid() {
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

job() { # job NAME MAX_CANDIDATES [EXTRA_JSON_MEMBERS]
    printf '{"name":"%s","space":{"name":"nb201"},"proxies":{"params":{},"flops":{}},' "$1"
    printf '"objectives":["flops","latency_ms","peak_sram_bytes"],"budget":{"max_candidates":%d},' "$2"
    printf '"batch_size":4,"convergence":{"epsilon":0}%s}' "${3:-}"
}

# A worker with a token that lacks the worker scope is refused and says so (exit 4).
printf '%s\n' "$READ" >"$TMP/read-token"
on "$NS_W2" "${CLEAN_ENV[@]}" timeout 20 "$BIN/monas-worker" run --coordinator "$URL" \
    --token-file "$TMP/read-token" --id netns-badtoken --backoff-max-ms 300 \
    >"$TMP/netns-badtoken.log" 2>&1
expect "a worker with a read token exits with status" 4 "$?"

st=$(http "$NS_SRV" POST /v1/jobs "$ADMIN" "$(job netns-a 24)")
expect "POST /v1/jobs with the admin token" 201 "$st"
JOB_A=$(jget id)
worker "$NS_W1" netns-w1 --score-delay-ms 100
W1=${PIDS[-1]}
worker "$NS_W2" netns-w2 --score-delay-ms 100
W2=${PIDS[-1]}
expect "job $JOB_A (two workers on two hosts)" exhausted "$(wait_job "$JOB_A")"
http "$NS_SRV" GET "/v1/jobs/$JOB_A" "$READ" >/dev/null
expect "job $JOB_A candidates scored" 24 "$(jget progress.scored)"
expect "job $JOB_A candidates dead" 0 "$(jget progress.dead)"
http "$NS_SRV" GET /v1/workers "$READ" >/dev/null
for w in netns-w1 netns-w2; do
    n=$("$PY" -c 'import json,sys; print(sum(w["results"] for w in json.load(open(sys.argv[1]))["workers"] if w["id"] == sys.argv[2]))' "$TMP/body" "$w")
    [ "$n" -gt 0 ] || fail "worker $w scored nothing for job $JOB_A"
    say "ok: worker $w (another host) posted $n results"
done
stop_pid "$W1"
stop_pid "$W2"

# ------------------------------------------------------------------ 4. link cut
# Worker 1 alone leases a batch that takes 4 x 1.5 s; its link goes down while it
# scores. Its lease (2 s, extended by heartbeats it can no longer send) expires, the
# reaper requeues the batch, and worker 2, started after the cut, scores everything.
expired0=$(metric monas_leases_expired_total)
st=$(http "$NS_SRV" POST /v1/jobs "$ADMIN" "$(job netns-cut 12 ',"lease_seconds":2')")
expect "POST /v1/jobs (lease_seconds 2)" 201 "$st"
JOB_B=$(jget id)
worker "$NS_W1" netns-w1-cut --score-delay-ms 1500
while :; do
    budget "waiting for worker 1 to lease a batch"
    http "$NS_SRV" GET "/v1/jobs/$JOB_B" "$READ" >/dev/null
    [ "$(jget progress.leased)" -gt 0 ] 2>/dev/null && break
    sleep 0.05
done
leased=$(jget progress.leased) scored=$(jget progress.scored)
ip -n "$NS_W1" link set eth0 down || fail "cannot take worker 1's link down"
say "cut worker 1's link with $leased candidates leased to it, $scored scored"
[ "$scored" = 0 ] || fail "worker 1 finished a candidate before the cut"
worker "$NS_W2" netns-w2-cut --score-delay-ms 50
expect "job $JOB_B (after the cut)" exhausted "$(wait_job "$JOB_B")"
http "$NS_SRV" GET "/v1/jobs/$JOB_B" "$READ" >/dev/null
expect "job $JOB_B candidates scored" 12 "$(jget progress.scored)"
expect "job $JOB_B candidates dead" 0 "$(jget progress.dead)"
expired1=$(metric monas_leases_expired_total)
[ "${expired1:-0}" -gt "${expired0:-0}" ] || fail "no lease expired ($expired0 -> $expired1)"
say "ok: leases expired $expired0 -> $expired1"
http "$NS_SRV" GET "/v1/jobs/$JOB_B/candidates?limit=100" "$READ" >/dev/null
by=$("$PY" -c 'import json,sys; print(" ".join(sorted({c["worker_id"] for c in json.load(open(sys.argv[1]))["candidates"]})))' "$TMP/body")
expect "job $JOB_B scored by" netns-w2-cut "$by"
say "passed in $SECONDS s"
