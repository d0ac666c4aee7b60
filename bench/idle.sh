#!/usr/bin/env bash
# Memory per idle connection: 5,000 participants connected to one session and idle, against the
# peer and the project (bench/idle.mjs does the measuring), each on a freshly started server.
#
#   bash bench/idle.sh
#
#   BENCH_IDLE_N=5000                   connections
#   BENCH_IDLE_SIDES=peer,embedded,cluster
#   BENCH_OUT=DIR                       (bench/results/idle-<timestamp>/)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

n=${BENCH_IDLE_N:-5000}
IFS=, read -r -a sides <<<"${BENCH_IDLE_SIDES:-peer,embedded,cluster}"
out=${BENCH_OUT:-$BENCH_DIR/results/idle-$(date +%Y%m%d-%H%M%S)}

prepare_peer
mkdir -p "$out"
work=$(mktemp -d /tmp/companion-bench-work.XXXXXX)
export BENCH_WORK=$work BENCH_PG_PREFIX="companion_bench_idle_$$_${RANDOM}_"
export COMPANION_SECRET_KEY
COMPANION_SECRET_KEY=$(head -c 36 /dev/urandom | base64 | tr -d '/+=\n')
cleanup() {
  stop_side
  stop_redis
  drop_databases "$BENCH_PG_PREFIX"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The generator holds one socket per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -gt $((n + 500)) ] || bench_log "warning: ulimit -n is $(ulimit -n), below $n connections"
machine_info | tee "$out/machine.txt" >&2
warn_if_busy

status=0
for side in "${sides[@]}"; do
  case "$side" in
    peer) kind=peer setup=embedded ;;
    embedded) kind=project setup=embedded ;;
    cluster) kind=project setup=cluster; start_redis "$work"; export BENCH_REDIS_URL ;;
    *) bench_log "unknown side $side (peer, embedded or cluster)"; exit 2 ;;
  esac
  port=$(free_port)
  bench_log "== $side: $n idle connections (port $port)"
  start_side "$kind" "$setup" "$port" "$work/$side"
  node "$BENCH_DIR/idle.mjs" --url "http://127.0.0.1:$port" --token "$SERVER_TOKEN" --server-pid "$SERVER_PID" \
    --connections "$n" --label "$side" --out "$out/$side.json" >/dev/null 2>"$out/$side.log" || {
      bench_log "idle.mjs failed for $side:"; tail -5 "$out/$side.log" >&2; status=1; }
  stop_side
  cp "$work/$side/server.log" "$out/$side.server.log" 2>/dev/null || true
  if [ "$side" = cluster ]; then stop_redis; fi
done

node -e '
  const fs = require("fs"), [dir, ...sides] = process.argv.slice(1);
  console.log("| side | connected | failures | server processes | RSS before MB | RSS after MB | KB per idle connection |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const s of sides) {
    const f = `${dir}/${s}.json`;
    if (!fs.existsSync(f)) continue;
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    console.log(`| ${s} | ${r.connected ?? "-"} | ${r.connect_failures ?? "-"} | ${r.server_processes ?? "-"} | ${r.rss_before_mb ?? "-"} | ` +
      `${r.rss_after_mb ?? "-"} | ${r.kb_per_connection ?? r.error} |`);
  }' "$out" "${sides[@]}" | tee "$out/table.md"
bench_log "reports in $out"
exit "$status"
