#!/usr/bin/env bash
# The classroom benchmark (`make bench`): the project side by side with the Node.js peer of
# ../shared/bench, on the same scenario, in one run, for
#   embedded  one process on the embedded default (SQLite file in a temp dir)
#   cluster   two processes (`serve --workers 2`) with Redis and PostgreSQL
# and prints, per setup, compare.sh's full table and a summary of the figures we track and their targets.
#
#   bash bench/run.sh [-- extra classroom.mjs options, e.g. --chat-seconds 5]
#
#   BENCH_N=2000               participants per run
#   BENCH_ROUNDS=1             runs per side and setup (alternating order; cells are medians)
#   BENCH_SETUPS=embedded,cluster
#   BENCH_OUT=DIR              where reports go (bench/results/<timestamp>/<setup>/)
#   BENCH_MAX_SECONDS=300      a run that takes longer is cut short (and reported as incomplete)
#   BENCH_REDIS_URL=URL        use this Redis instead of a private redis-server (it is flushed!)
#   BENCH_PG_ADMIN=DSN         PostgreSQL to create the runs' databases in
#                              (postgresql://postgres@127.0.0.1:5432/postgres; dropped afterwards)
#   BENCH_SCHEDULING=1         then the scheduling checks on a full term (bench/scheduling.py: SQLite
#                              with the embedded setup, PostgreSQL with the cluster one); 0 skips them
#   BENCH_SCHEDULING_ARGS=...  options for bench/scheduling.py, e.g. "--repeats 200 --http-repeats 0"
#   BENCH_REMINDERS=1          then the reminders check (bench/reminders.py: 10,000 reminder mails due at
#                              once, two `companion serve` on PostgreSQL, a local SMTP sink); 0 skips it
#   BENCH_REMINDERS_ARGS=...   options for bench/reminders.py, e.g. "--reminders 2000 --spread-s 60"
#   BENCH_PURGE=1              then the retention purge of a year (bench/purge.py: 10,000 sessions, 300,000
#                              attendance rows, 2 million chat messages on PostgreSQL, a live class chatting
#                              meanwhile); 0 skips it. BENCH_PURGE_ARGS=... options for purge.py
#   BENCH_AFTER=1              then materials (bench/materials.py) and the session record at close
#                              (bench/record.py); 0 skips them. BENCH_RECORD_ARGS=... options for record.py
# Exits 1 when a run did not complete or reported errors, lost or duplicated messages (or reminder mails).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

n=${BENCH_N:-2000}
rounds=${BENCH_ROUNDS:-1}
IFS=, read -r -a setups <<<"${BENCH_SETUPS:-embedded,cluster}"
[ "${1:-}" = -- ] && shift
extra=(--max-seconds "${BENCH_MAX_SECONDS:-300}" "$@")
out=${BENCH_OUT:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)}

prepare_peer
mkdir -p "$out"
work=$(mktemp -d /tmp/companion-bench-work.XXXXXX)
pg_prefix="companion_bench_$$_${RANDOM}_"
svcmon_pid=''
cleanup() {
  if [ -n "$svcmon_pid" ]; then kill -TERM "$svcmon_pid" 2>/dev/null || true; wait "$svcmon_pid" 2>/dev/null || true; fi
  stop_redis
  if [[ " ${setups[*]} " == *" cluster "* ]] || [ "${BENCH_REMINDERS:-1}" != 0 ]; then drop_databases "$pg_prefix"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One socket per participant in the generator: make room for N of them.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
secret=$(head -c 36 /dev/urandom | base64 | tr -d '/+=\n')
machine_info | tee "$out/machine.txt" >&2
warn_if_busy

status=0
for setup in "${setups[@]}"; do
  dir="$out/$setup"
  mkdir -p "$dir"
  env_args=(--project-env "BENCH_SETUP=$setup" --project-env "BENCH_WORK=$work"
            --project-env "COMPANION_SECRET_KEY=$secret" --project-env "BENCH_COMPANION=$COMPANION")
  case "$setup" in
    embedded) title="one process, embedded default (SQLite)" ;;
    cluster)
      title="two processes (--workers 2), Redis and PostgreSQL"
      start_redis "$work"
      env_args+=(--project-env "BENCH_REDIS_URL=$BENCH_REDIS_URL" --project-env "BENCH_PG_PREFIX=$pg_prefix"
                 --project-env "BENCH_PG_ADMIN=$PG_ADMIN")
      svc=(--db-prefix "$pg_prefix" --out "$dir/services.json")
      [ -n "$BENCH_REDIS_PID" ] && svc+=(--pid "$BENCH_REDIS_PID")
      node "$BENCH_DIR/svcmon.mjs" "${svc[@]}" &
      svcmon_pid=$!
      ;;
    *) bench_log "unknown setup $setup (embedded or cluster)"; exit 2 ;;
  esac
  bench_log "== $setup: $title, N=$n, $rounds round(s)"
  echo "## $setup: $title"
  bash "$PEER_DIR/compare.sh" --participants "$n" --rounds "$rounds" --out "$dir" --token-when before \
    --project-cmd "bash $BENCH_DIR/project.sh serve {port}" --project-token-cmd "bash $BENCH_DIR/project.sh token" \
    "${env_args[@]}" -- "${extra[@]}"
  if [ -n "$svcmon_pid" ]; then kill -TERM "$svcmon_pid"; wait "$svcmon_pid" || true; svcmon_pid=''; fi
  if [ "$setup" = cluster ]; then stop_redis; drop_databases "$pg_prefix"; fi
  echo
  node "$BENCH_DIR/summary.mjs" targets "$dir" --title "$setup: $title" --services "$dir/services.json" | tee "$dir/summary.md"
  echo
  # Every run must have completed without errors, lost or duplicated messages.
  node -e '
    const fs = require("fs"), dir = process.argv[1], rounds = Number(process.argv[2]);
    let bad = 0;
    for (const side of ["peer", "project"]) for (let k = 1; k <= rounds; k++) {
      const f = `${dir}/${side}-${k}.json`;
      if (!fs.existsSync(f)) { console.error(`[bench] missing ${f}`); bad++; continue; }
      const r = JSON.parse(fs.readFileSync(f, "utf8")), c = r.phases?.chat ?? {};
      if (!r.completed || r.errors.total || c.lost || c.duplicates || !r.phases?.close?.transcript_ok || !r.phases?.close?.attendance_ok) {
        console.error(`[bench] ${f}: completed=${r.completed} errors=${r.errors.total} lost=${c.lost} duplicates=${c.duplicates} ` +
          `samples=${JSON.stringify(r.errors.samples.slice(0, 3))}`);
        bad++;
      }
    }
    process.exit(bad ? 1 : 0);' "$dir" "$rounds" || status=1
done

# The scheduling checks on a term of 10,000 sessions, on the databases of the setups that ran.
if [ "${BENCH_SCHEDULING:-1}" != 0 ]; then
  backends=()
  [[ " ${setups[*]} " == *" embedded "* ]] && backends+=(sqlite)
  [[ " ${setups[*]} " == *" cluster "* ]] && backends+=(postgresql)
  if [ "${#backends[@]}" -gt 0 ]; then
    mkdir -p "$out/scheduling"
    bench_log "== scheduling: a full term on $(IFS=,; echo "${backends[*]}")"
    echo "## scheduling"
    # shellcheck disable=SC2086 # BENCH_SCHEDULING_ARGS is a list of options
    BENCH_PG_ADMIN=$PG_ADMIN "$ROOT/.venv/bin/python" "$BENCH_DIR/scheduling.py" \
      --backends "$(IFS=,; echo "${backends[*]}")" --pg-name "${pg_prefix}scheduling" \
      --out "$out/scheduling/scheduling.json" ${BENCH_SCHEDULING_ARGS:-} | tee "$out/scheduling/table.txt" || status=1
    echo
  fi
fi
# Reminders at the top of the hour: N mails due at once, sent by two processes on PostgreSQL (its own
# database and Redis), each exactly once; due -> received latency and mails/s.
if [ "${BENCH_REMINDERS:-1}" != 0 ]; then
  mkdir -p "$out/reminders"
  bench_log "== reminders: reminder mails due at once, two processes on PostgreSQL"
  echo "## reminders"
  # shellcheck disable=SC2086 # BENCH_REMINDERS_ARGS is a list of options
  BENCH_PG_ADMIN=$PG_ADMIN "$ROOT/.venv/bin/python" "$BENCH_DIR/reminders.py" --pg-name "${pg_prefix}reminders" \
    --out "$out/reminders/reminders.json" ${BENCH_REMINDERS_ARGS:-} | tee "$out/reminders/summary.txt" || status=1
  echo
fi
# The retention purge of a year of a 300-instructor institution on PostgreSQL, with a live class meanwhile:
# the purge's time, and the class's chat p99 during it against without it.
if [ "${BENCH_PURGE:-1}" != 0 ]; then
  mkdir -p "$out/purge"
  bench_log "== purge: a year of an institution past keeping, one process on PostgreSQL"
  echo "## purge"
  # shellcheck disable=SC2086 # BENCH_PURGE_ARGS is a list of options
  BENCH_PG_ADMIN=$PG_ADMIN "$ROOT/.venv/bin/python" "$BENCH_DIR/purge.py" --pg-name "${pg_prefix}purge" \
    --json "$out/purge/purge.json" ${BENCH_PURGE_ARGS:-} >/dev/null || status=1
  cat "$out/purge/purge.json" 2>/dev/null || true
  echo
fi
# Materials (a 50 MB upload's memory, 2,000 listings at once) and the session record at close (a class of
# 2,000 with 500 chat messages), each against one `companion serve` on SQLite.
if [ "${BENCH_AFTER:-1}" != 0 ]; then
  mkdir -p "$out/after"
  bench_log "== materials and the session record, one process on SQLite"
  echo "## materials"
  "$ROOT/.venv/bin/python" "$BENCH_DIR/materials.py" --json "$out/after/materials.json" >/dev/null || status=1
  cat "$out/after/materials.json" 2>/dev/null || true
  echo "## session record"
  # shellcheck disable=SC2086 # BENCH_RECORD_ARGS is a list of options
  "$ROOT/.venv/bin/python" "$BENCH_DIR/record.py" --json "$out/after/record.json" ${BENCH_RECORD_ARGS:-} >/dev/null || status=1
  cat "$out/after/record.json" 2>/dev/null || true
  echo
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/machine.txt" >&2
bench_log "reports in $out"
exit "$status"
