# bench/run's `fleet` section (sourced by bench/run, which provides start_vendor,
# start_roomgate_api, wrk_run, capture, record, stop…): three instances sharing one
# redis-server, against the fake vendor. Figures: invalidation delay across instances,
# vendor calls per room per TTL for the fleet, sign-ins for 100 concurrent 401s, Redis
# commands per 1,000 cached page views, and a cached page's throughput and p99 with Redis
# up and down.
FLEET_TTL=${FLEET_TTL:-2}
FLEET_SECS=${FLEET_SECS:-20}

# start_fleet_redis: a redis-server of this run; sets REDIS_PORT and REDIS_PID.
start_fleet_redis() {
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    >"$TMP/redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  local i
  for ((i = 0; i < 100; i++)); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  die "redis-server did not start: $(tail -3 "$TMP/redis.log")"
}

# start_fleet N [VAR=value…]: N instances in fleet mode; sets FLEET_URLS and FLEET_PIDS.
start_fleet() {
  local n=$1 i
  shift
  FLEET_URLS=() FLEET_PIDS=()
  for ((i = 0; i < n; i++)); do
    start_roomgate_api "fleet-$i" ROOMGATE__SHARED__BACKEND=redis \
      ROOMGATE__SHARED__REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
      ROOMGATE__SHARED__KEY=bench-fleet-key-0123456789abcdef-0123456789 \
      ROOMGATE__API__TOKEN_FILE="$TMP/fleet-$i/tokens.json" \
      ROOMGATE__ADMIN__TOKEN=bench-admin-token-0123456789abcdef-0123 "$@"
    FLEET_URLS+=("http://127.0.0.1:$RPORT")
    FLEET_PIDS+=("$RPID")
  done
}

stop_fleet() {
  local pid
  for pid in "${FLEET_PIDS[@]}"; do stop "$pid"; done
}

bench_fleet() {
  command -v redis-server >/dev/null || die "redis-server is missing (apt-get install redis-server)"
  log "fleet: 3 instances, one Redis, the fake vendor; cache.ttl_secs = $FLEET_TTL"
  start_fleet_redis
  start_vendor 1000 0
  start_fleet 3 ROOMGATE__CACHE__TTL_SECS="$FLEET_TTL"

  capture calls python3 bench/fleet.py calls --vendor "http://127.0.0.1:$VPORT" \
    --ttl "$FLEET_TTL" --seconds "$FLEET_SECS" --rooms 20 "${FLEET_URLS[@]}"
  log "  vendor calls: $calls"
  capture refresh python3 bench/fleet.py refresh --vendor "http://127.0.0.1:$VPORT" \
    -n 100 "${FLEET_URLS[@]}"
  log "  100 concurrent 401s: $refresh"
  stop_fleet

  # Invalidation and Redis commands with a TTL long enough that only changes move rooms.
  start_fleet 3 ROOMGATE__CACHE__TTL_SECS=600
  capture invalidation python3 bench/fleet.py invalidation \
    --admin-token bench-admin-token-0123456789abcdef-0123 --key "$(key_of 1)" -n 40 "${FLEET_URLS[@]}"
  log "  invalidation: $invalidation"
  capture commands python3 bench/fleet.py commands --redis-port "$REDIS_PORT" -n 1000 \
    "${FLEET_URLS[0]}/room/$(key_of 2)"
  log "  Redis commands: $commands"

  local page="${FLEET_URLS[0]}/room/$(key_of 2)"
  wrk_run fleet-warm -t2 -c64 -d"$WARM_SECS"s "$page"
  wrk_run fleet-up -t2 -c64 -d"$TP_SECS"s "$page"
  local up=$WRK
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  wait "$REDIS_PID" 2>/dev/null || true
  forget "$REDIS_PID"
  sleep 1
  wrk_run fleet-down -t2 -c64 -d"$TP_SECS"s "$page"
  local down=$WRK
  log "  cached page, Redis up: $up; down: $down"
  record fleet "{\"calls\":$calls,\"refresh\":$refresh,\"invalidation\":$invalidation,\"commands\":$commands,\"page_up\":$up,\"page_down\":$down}"
  stop_fleet
  stop "$VPID"
}
