# Shared by bench/run.sh, bench/scale.sh and bench/idle.sh (sourced, not run).
#
# The peer and its load generator live read-only in ../shared/bench; they are copied into
# bench/.peer (gitignored) and their npm packages installed there. The project runs from this
# checkout's .venv. Everything listens on 127.0.0.1 only.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
PEER_SRC=${BENCH_PEER_SRC:-$ROOT/../shared/bench}
PEER_DIR=${BENCH_PEER_DIR:-$BENCH_DIR/.peer}
COMPANION=${BENCH_COMPANION:-$ROOT/.venv/bin/companion}
PG_ADMIN=${BENCH_PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}

bench_log() { echo "[bench] $*" >&2; }

# prepare_peer: copies the shared peer into $PEER_DIR (again when it changed) and runs `npm ci`
# there when its lock file changed or node_modules is missing.
prepare_peer() {
  command -v node >/dev/null && command -v npm >/dev/null || { bench_log "node and npm are needed"; return 2; }
  [ -f "$PEER_SRC/compare.sh" ] || { bench_log "no peer at $PEER_SRC (set BENCH_PEER_SRC)"; return 2; }
  mkdir -p "$PEER_DIR"
  # Two runs at once (a test and `make bench`) must not copy over each other.
  exec 9>"$PEER_DIR/.lock"
  flock -w 300 9 || { bench_log "could not lock $PEER_DIR"; return 2; }
  local f
  for f in README.md compare.sh package.json package-lock.json load peer; do
    if ! diff -rq "$PEER_SRC/$f" "$PEER_DIR/$f" >/dev/null 2>&1; then
      rm -rf "${PEER_DIR:?}/$f"
      cp -r "$PEER_SRC/$f" "$PEER_DIR/$f"
    fi
  done
  chmod -R u+w "$PEER_DIR"
  if [ ! -d "$PEER_DIR/node_modules/socket.io-client" ] || ! cmp -s "$PEER_DIR/package-lock.json" "$PEER_DIR/.installed-lock"; then
    bench_log "npm ci in $PEER_DIR"
    (cd "$PEER_DIR" && npm ci --no-audit --no-fund --loglevel=error >&2)
    cp "$PEER_DIR/package-lock.json" "$PEER_DIR/.installed-lock"
  fi
  flock -u 9
  exec 9>&-
}

# free_port: an unused TCP port on 127.0.0.1.
free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# machine_info: what the figures were measured on.
machine_info() {
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpus: $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'))"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r)"
  echo "python: $("$ROOT/.venv/bin/python" --version 2>&1)"
  echo "node: $(node --version)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- server realtime persistence 2>/dev/null || echo ' + uncommitted server changes')"
}

# warn_if_busy: the figures are only comparable on an otherwise idle machine.
warn_if_busy() {
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  if awk -v l="$load" 'BEGIN { exit !(l > 0.7) }'; then
    bench_log "warning: load average is $load before the run; other work on this machine inflates the figures"
  fi
}

# ---------------------------------------------------------------- Redis and PostgreSQL for the two-process setup

BENCH_REDIS_PID=''
# start_redis DIR: a private redis-server on a free port (unless BENCH_REDIS_URL is set); sets BENCH_REDIS_URL.
start_redis() {
  if [ -n "${BENCH_REDIS_URL:-}" ]; then return 0; fi
  command -v redis-server >/dev/null || { bench_log "redis-server is not installed (make services installs it)"; return 2; }
  local port
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$1" --daemonize no \
    >"$1/redis.log" 2>&1 &
  BENCH_REDIS_PID=$!
  local i
  for i in $(seq 1 50); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && { BENCH_REDIS_URL="redis://127.0.0.1:$port/0"; return 0; }
    sleep 0.1
  done
  bench_log "redis-server did not start; log: $1/redis.log"
  return 1
}
stop_redis() {
  if [ -n "$BENCH_REDIS_PID" ]; then
    kill "$BENCH_REDIS_PID" 2>/dev/null || true
    wait "$BENCH_REDIS_PID" 2>/dev/null || true
    BENCH_REDIS_PID=''
    unset BENCH_REDIS_URL
  fi
}

pg_admin() { psql "$PG_ADMIN" -v ON_ERROR_STOP=1 -qAtc "$1"; }
# drop_databases PREFIX: drops every database whose name starts with PREFIX.
drop_databases() {
  local db
  for db in $(pg_admin "SELECT datname FROM pg_database WHERE datname LIKE '$1%'" 2>/dev/null); do
    pg_admin "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" || true
  done
}

# ---------------------------------------------------------------- one server at a time (idle.sh)

SERVER_PID=''
SERVER_TOKEN=''
# start_side SIDE SETUP PORT WORKDIR: starts the peer or the project in its own process group and
# waits for /healthz; sets SERVER_PID and SERVER_TOKEN. SETUP is embedded or cluster.
start_side() {
  local side=$1 setup=$2 port=$3 dir=$4
  mkdir -p "$dir"
  if [ "$side" = peer ]; then
    SERVER_TOKEN="peer-$RANDOM$RANDOM$RANDOM"
    PEER_ADMIN_TOKEN=$SERVER_TOKEN setsid node "$PEER_DIR/peer/server.mjs" --port "$port" >"$dir/server.log" 2>&1 &
    SERVER_PID=$!
  else
    SERVER_TOKEN=$(cd "$dir" && BENCH_SETUP=$setup bash "$BENCH_DIR/project.sh" token 2>>"$dir/server.log" | awk 'NF{l=$0} END{print l}')
    (cd "$dir" && BENCH_SETUP=$setup exec setsid bash "$BENCH_DIR/project.sh" serve "$port") >>"$dir/server.log" 2>&1 &
    SERVER_PID=$!
  fi
  local t0=$SECONDS
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null || [ $((SECONDS - t0)) -ge 60 ]; then
      bench_log "$side did not answer /healthz; log:"; tail -20 "$dir/server.log" >&2; stop_side; return 1
    fi
    sleep 0.2
  done
  [ -n "$SERVER_TOKEN" ] || { bench_log "no admin token for $side"; stop_side; return 1; }
}
# stop_side: SIGTERM to the server's process group, SIGKILL after 15 s.
stop_side() {
  [ -n "$SERVER_PID" ] || return 0
  local t0=$SECONDS
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null || true
  while kill -0 "$SERVER_PID" 2>/dev/null && [ $((SECONDS - t0)) -lt 15 ]; do sleep 0.2; done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=''
}
