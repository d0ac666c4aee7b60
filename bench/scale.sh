#!/usr/bin/env bash
# How cost grows with N: the classroom scenario at N = 500, 1000, 2000, 4000 for one process on
# the embedded default and for the peer (bench/run.sh with BENCH_SETUPS=embedded, once per N),
# then one table of p99s, CPU seconds and peak memory against N.
#
#   bash bench/scale.sh [-- extra classroom.mjs options]
#
#   BENCH_SCALE_NS="500 1000 2000 4000"
#   BENCH_ROUNDS=1, BENCH_SETUPS=embedded (cluster works too: one table per setup)
#   BENCH_OUT=DIR                       (bench/results/scale-<timestamp>/)
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
ns=${BENCH_SCALE_NS:-500 1000 2000 4000}
IFS=, read -r -a setups <<<"${BENCH_SETUPS:-embedded}"
out=${BENCH_OUT:-$bench/results/scale-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"

status=0
for n in $ns; do
  # The join phase paces connections at 200/s by default; a phase gets 60 s before giving up.
  BENCH_N=$n BENCH_SETUPS=${BENCH_SETUPS:-embedded} BENCH_OUT="$out/n$n" bash "$bench/run.sh" "$@" >"$out/n$n.txt" || status=1
  echo "[bench] N=$n done ($(grep -c . "$out/n$n.txt") lines in $out/n$n.txt)" >&2
done
for setup in "${setups[@]}"; do
  echo "### $setup: growth with N"
  dirs=()
  for n in $ns; do dirs+=("$out/n$n/$setup"); done
  node "$bench/summary.mjs" scale "${dirs[@]}"
  echo
done | tee "$out/scale.md"
echo "[bench] reports in $out" >&2
exit "$status"
