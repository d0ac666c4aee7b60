#!/usr/bin/env bash
# Where the project's time goes: one classroom run against the project under py-spy, one profile
# per phase (join, ping, chat, help, close), then the top functions of each.
#
#   bash bench/profile.sh [embedded|cluster] [-- extra classroom.mjs options]
#
#   BENCH_N=2000, BENCH_OUT=DIR (bench/results/profile-<setup>-<timestamp>/)
#   BENCH_PYSPY_FORMAT=raw      raw (collapsed stacks, summarised here) or speedscope
# Sampling at 100 Hz without pausing the server (--nonblocking) costs it a few per cent of a core.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

setup=${1:-embedded}
shift || true
[ "${1:-}" = -- ] && shift
n=${BENCH_N:-2000}
format=${BENCH_PYSPY_FORMAT:-raw}
pyspy=$ROOT/.venv/bin/py-spy
out=${BENCH_OUT:-$BENCH_DIR/results/profile-$setup-$(date +%Y%m%d-%H%M%S)}
[ -x "$pyspy" ] || { bench_log "py-spy is not installed in .venv (pip install py-spy)"; exit 2; }

prepare_peer
mkdir -p "$out"
work=$(mktemp -d /tmp/companion-bench-work.XXXXXX)
export BENCH_WORK=$work BENCH_PG_PREFIX="companion_bench_prof_$$_${RANDOM}_"
export COMPANION_SECRET_KEY
COMPANION_SECRET_KEY=$(head -c 36 /dev/urandom | base64 | tr -d '/+=\n')
spy_pid='' load_pid=''
stop_spy() {
  if [ -n "$spy_pid" ]; then kill -INT "$spy_pid" 2>/dev/null || true; wait "$spy_pid" 2>/dev/null || true; spy_pid=''; fi
}
cleanup() {
  stop_spy
  if [ -n "$load_pid" ]; then kill "$load_pid" 2>/dev/null || true; fi
  stop_side
  stop_redis
  drop_databases "$BENCH_PG_PREFIX"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
machine_info >"$out/machine.txt"
warn_if_busy

if [ "$setup" = cluster ]; then start_redis "$work"; export BENCH_REDIS_URL; fi
port=$(free_port)
start_side project "$setup" "$port" "$work/server"
bench_log "profiling $setup (pid $SERVER_PID) at N=$n into $out"
node "$PEER_DIR/load/classroom.mjs" --url "http://127.0.0.1:$port" --token "$SERVER_TOKEN" --participants "$n" \
  --server-pid "$SERVER_PID" --label "project-$setup-profiled" --out "$out/report.json" "$@" >/dev/null 2>"$out/load.log" &
load_pid=$!
phase=''
ext=txt
[ "$format" = speedscope ] && ext=json
while kill -0 "$load_pid" 2>/dev/null; do
  now=$(grep -o 'phase [a-z]*' "$out/load.log" | tail -1 | cut -d' ' -f2 || true)
  if [ -n "$now" ] && [ "$now" != "$phase" ]; then
    stop_spy
    phase=$now
    "$pyspy" record --pid "$SERVER_PID" --subprocesses --nonblocking --rate 100 --format "$format" \
      --output "$out/$phase.$ext" >"$out/py-spy-$phase.log" 2>&1 &
    spy_pid=$!
  fi
  sleep 0.1
done
stop_spy
wait "$load_pid" || bench_log "classroom.mjs exited $? (see $out/load.log)"
load_pid=''
cp "$work/server/server.log" "$out/server.log" 2>/dev/null || true
if [ "$format" = raw ]; then
  for p in setup join ping chat help close; do
    [ -s "$out/$p.txt" ] && "$ROOT/.venv/bin/python" "$BENCH_DIR/pyspy_top.py" "$out/$p.txt" --top 15
    echo
  done | tee "$out/top.txt"
fi
node -e '
  const r = require(process.argv[1]);
  for (const [k, p] of Object.entries(r.phases)) console.log(`${k}: wall ${p.wall_s}s, server cpu ${p.server_cpu_s}s, generator busy ${p.generator_busy}`);
  console.log(`completed ${r.completed}, errors ${r.errors.total}`);' "$out/report.json" | tee -a "$out/top.txt"
bench_log "profiles in $out"
