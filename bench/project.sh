#!/usr/bin/env bash
# Starts the project for one benchmark run, or prints an admin token for it.
#
#   bash bench/project.sh token          # migrates a fresh database, prints an admin token
#   bash bench/project.sh serve PORT     # serves that database on 127.0.0.1:PORT
#
# Run both in the same working directory (compare.sh gives each run a fresh temp dir): its
# name keys the run's database, so every run starts empty. Environment:
#   BENCH_SETUP=embedded  one process, SQLite in $BENCH_WORK/<run>/ (the embedded default)
#   BENCH_SETUP=cluster   `--workers 2`, PostgreSQL database <BENCH_PG_PREFIX><run> (created
#                         here, dropped by the caller) and Redis at BENCH_REDIS_URL (flushed here)
#   COMPANION_SECRET_KEY  required, the same for both commands
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
companion=${BENCH_COMPANION:-$bench/../.venv/bin/companion}
setup=${BENCH_SETUP:-embedded}
run=$(basename "$PWD" | tr 'A-Z.-' 'a-z__')
work=${BENCH_WORK:-$PWD}
pg_admin=${BENCH_PG_ADMIN:-postgresql://postgres@127.0.0.1:5432/postgres}
: "${COMPANION_SECRET_KEY:?set COMPANION_SECRET_KEY (at least 32 characters)}"

case "$setup" in
  embedded)
    export COMPANION_DATA_DIR="$work/$run"
    mkdir -p "$COMPANION_DATA_DIR"
    export COMPANION_DATABASE_URL="sqlite+aiosqlite:///$COMPANION_DATA_DIR/companion.db"
    unset COMPANION_REDIS_URL
    workers=1
    ;;
  cluster)
    : "${BENCH_REDIS_URL:?set BENCH_REDIS_URL}" "${BENCH_PG_PREFIX:?set BENCH_PG_PREFIX}"
    db="${BENCH_PG_PREFIX}${run}"
    export COMPANION_DATA_DIR="$work/$run"
    mkdir -p "$COMPANION_DATA_DIR"
    export COMPANION_DATABASE_URL="postgresql+asyncpg://${pg_admin#postgresql://}"
    export COMPANION_DATABASE_URL="${COMPANION_DATABASE_URL%/*}/$db"
    export COMPANION_REDIS_URL="$BENCH_REDIS_URL"
    workers=2
    ;;
  *) echo "BENCH_SETUP must be embedded or cluster" >&2; exit 2 ;;
esac

case "${1:-}" in
  token)
    if [ "$setup" = cluster ]; then
      psql "$pg_admin" -qAtc "CREATE DATABASE \"$db\"" >&2
      redis-cli -u "$BENCH_REDIS_URL" flushall >/dev/null
    fi
    exec "$companion" token create --role admin --name bench
    ;;
  serve)
    port=${2:?port}
    # compare.sh's per-run temp dir has done its job (naming the run): leave /tmp clean.
    old=$PWD
    cd "$COMPANION_DATA_DIR"
    case "$old" in /tmp/companion-bench.*) rmdir "$old" 2>/dev/null || true ;; esac
    if [ "$workers" -gt 1 ]; then exec "$companion" serve --host 127.0.0.1 --port "$port" --workers "$workers"; fi
    exec "$companion" serve --host 127.0.0.1 --port "$port"
    ;;
  *) echo "usage: project.sh token | serve PORT" >&2; exit 2 ;;
esac
