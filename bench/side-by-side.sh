#!/usr/bin/env bash
# Run the store-related benchmarks in two checkouts, interleaved, so both see the same machine load.
#
#   bench/side-by-side.sh BASE_DIR HEAD_DIR ROUNDS OUT_DIR [NAME ...]
#
# NAMEs pick benchmarks (default: all). The PostgreSQL ones use ASSAY_TEST_POSTGRES_URL (default
# the local test database); server-sqlite runs the server benchmark with it unset.
#
# Each round runs every benchmark once in each tree, alternating which tree goes first. Outputs go
# to OUT_DIR/<bench>.<base|head>.<round>.txt, with `uptime` before each run; bench/results/store-core.md
# is written from them by hand (medians across rounds).
set -euo pipefail
base=$1 head=$2 rounds=$3 out=$4
shift 4
only=" $* "
mkdir -p "$out"
export ASSAY_TEST_POSTGRES_URL=${ASSAY_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
benches=(
  "store|node --import tsx bench/store-throughput.ts --reps 1 --no-write"
  "postgres|node --import tsx bench/postgres-store.ts --no-write"
  "server|node --import tsx bench/server-load.ts --points 200000 --batch 5000"
  "server-sqlite|env -u ASSAY_TEST_POSTGRES_URL node --import tsx bench/server-load.ts --points 200000 --batch 5000"
  "compare|node --import tsx bench/compare.ts 1000000 3"
  "leaderboard|node --import tsx bench/leaderboard.ts --reps 3"
)
for round in $(seq 1 "$rounds"); do
  for entry in "${benches[@]}"; do
    name=${entry%%|*} command=${entry#*|}
    [[ $only == "  " || $only == *" $name "* ]] || continue
    if (( round % 2 )); then order=(base head); else order=(head base); fi
    for side in "${order[@]}"; do
      dir=$base; [[ $side == head ]] && dir=$head
      file="$out/$name.$side.$round.txt"
      { echo "# $command (in $dir)"; echo "# uptime: $(uptime)"; } > "$file"
      (cd "$dir" && $command) >> "$file" 2>&1 || echo "# exit $?" >> "$file"
      echo "# uptime after: $(uptime)" >> "$file"
    done
  done
done
