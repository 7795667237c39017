# local-lib.sh — shell helpers shared by deploy/run-local.sh and bench/worker_scaling.sh
# (sourced, bash): start monasd on loopback and read fields of its JSON answers with
# grep/sed, so neither needs jq.

# monas_start_monasd BIN DIR LISTEN: starts BIN/monasd on LISTEN (host:port, port 0 for
# a free one) with the database DIR/monas.db and its log appended to DIR/monasd.log.
# Sets MONASD_PID and MONASD_PORT once it listens; returns 1 if it exits or times out.
monas_start_monasd() {
    local bin=$1 dir=$2 i
    rm -f "$dir/monasd.port"
    "$bin/monasd" --listen "$3" --db "$dir/monas.db" --port-file "$dir/monasd.port" \
        >>"$dir/monasd.log" 2>&1 &
    MONASD_PID=$!
    for i in $(seq 150); do
        if [ -s "$dir/monasd.port" ]; then
            MONASD_PORT=$(cat "$dir/monasd.port")
            return 0
        fi
        kill -0 "$MONASD_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    kill "$MONASD_PID" 2>/dev/null
    return 1
}

# monas_field JSON NAME: the first "NAME":value in JSON (quotes removed). In a job view
# the first id, status, reason, scored and front_size are the job's own.
monas_field() {
    printf '%s' "$1" | grep -o "\"$2\":\"\\?[^,\"}]*" | head -1 | sed 's/^[^:]*://; s/"//g'
}
