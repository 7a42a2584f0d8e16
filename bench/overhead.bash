# bench/run's `overhead` section (sourced by bench/run): the cost of running as a fleet
# member with metrics on (issue 16: "within 5 %"). Two roomgates on the catalog, one as
# shipped (local state, metrics off), one with shared.backend = "redis" and
# metrics.address set, are loaded at the same time by one wrk each, for the plain link,
# the role link (whose guess limit then lives in Redis) and the plain link with a session
# cookie; each round's ratio on / off compares like with like on a shared machine. wrk
# sends every role link from one address, which no real crowd does: both instances get a
# guess budget (security.role_guess_limit) wide enough for its 32 connections, so the
# figure is the cost of the Redis round trips, not of one address's budget.

# wrk_pair KIND SECONDS: both instances at once; sets PAIR[off] and PAIR[on].
wrk_pair() {
  local kind=$1 t pid status=0 pids=() args
  for t in off on; do
    args=(--latency -s bench/wrk.lua -t1 -c32 -d"$2"s)
    [ "$kind" = cookie ] && args+=(-H "Cookie: ${ov_cookie[$t]}")
    wrk "${args[@]}" "${ov_url[$t]}${ov_path[$kind]}" >"$TMP/wrk-ov-$t.log" 2>&1 &
    pid=$!
    pids+=("$pid")
    PIDS+=("$pid")
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || status=$?
    forget "$pid"
  done
  [ "$status" = 0 ] || die "wrk failed: $(tail -3 "$TMP/wrk-ov-off.log" "$TMP/wrk-ov-on.log")"
  for t in off on; do
    PAIR[$t]=$(grep '^wrk-result ' "$TMP/wrk-ov-$t.log" | tail -1 | cut -d' ' -f2-)
    [ -n "${PAIR[$t]}" ] || die "no result from wrk: $(tail -3 "$TMP/wrk-ov-$t.log")"
  done
}

bench_overhead() {
  command -v redis-server >/dev/null || die "redis-server is missing (apt-get install redis-server)"
  log "overhead: as shipped vs fleet member with metrics, loaded at once, $ROUNDS rounds of ${TP_SECS} s"
  start_fleet_redis
  declare -gA ov_url=() ov_cookie=() PAIR=()
  declare -gA ov_path=([plain]=/room/123-123-123 [role]=/room/123-123-123/abcxyz123 [cookie]=/room/123-123-123)
  start_roomgate overhead-off ROOMGATE__SECURITY__ROLE_GUESS_LIMIT=1000
  local off_pid=$RPID
  ov_url[off]="http://127.0.0.1:$RPORT"
  local mport
  mport=$(free_port)
  start_roomgate overhead-on ROOMGATE__SECURITY__ROLE_GUESS_LIMIT=1000 \
    ROOMGATE__METRICS__ADDRESS="127.0.0.1:$mport" \
    ROOMGATE__SHARED__BACKEND=redis ROOMGATE__SHARED__REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
    ROOMGATE__SHARED__KEY=bench-fleet-key-0123456789abcdef-0123456789
  local on_pid=$RPID
  ov_url[on]="http://127.0.0.1:$RPORT"
  local t
  for t in off on; do
    # Each instance has a session key of its own (development): a cookie of its own too.
    ov_cookie[$t]=$(curl -fs -D - -o /dev/null "${ov_url[$t]}/room/123-123-123?_nickname=Bench" |
      tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: *\([^;]*\).*/\1/p' | head -1)
    [ -n "${ov_cookie[$t]}" ] || die "no session cookie from ${ov_url[$t]}"
  done
  cmp -s <(curl -fs "${ov_url[off]}/room/123-123-123/abcxyz123") \
    <(curl -fs "${ov_url[on]}/room/123-123-123/abcxyz123") || die "fleet mode changes the page"
  local kind round
  for kind in plain role cookie; do wrk_pair "$kind" "$WARM_SECS"; done
  for ((round = 0; round < ROUNDS; round++)); do
    for kind in plain role cookie; do
      wrk_pair "$kind" "$TP_SECS"
      for t in off on; do
        log "  round $((round + 1)) $kind $t: ${PAIR[$t]}"
        record "ov_${kind}_$t" "${PAIR[$t]}"
      done
    done
  done
  curl -fs "http://127.0.0.1:$mport/metrics" | grep -q '^roomgate_http_requests_total' ||
    die "the fleet member's metrics do not count pages"
  stop "$on_pid"
  stop "$off_pid"
  stop "$REDIS_PID"
}
