#!/usr/bin/env bash
# Delivery metrics benchmark: the index (crates/metrics) against DuckDB computing the same report
# from the same rows, same machine, same run. Builds the release bench, generates the data and
# times our queries, then has DuckDB compute and time the same four queries and compares every
# value with ours (a mismatch fails the script).
#
# Usage: bash bench/metrics_duckdb.sh [CHANGES]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
CHANGES="${1:-1000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-metrics}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

python3 -c "import duckdb" 2>/dev/null || pip install --quiet duckdb
cargo build --release -q -p changegate-bench --bin metrics_bench

echo "== machine"; nproc; uname -srm; date -u
echo "== changegate-metrics: $CHANGES changes"
"$CARGO_TARGET_DIR/release/metrics_bench" "$WORK" "$CHANGES" | tee "$WORK/bench.out"
echo "== DuckDB: the same report from the same rows"
python3 bench/metrics_duckdb.py "$WORK" "$WORK/bench.out"
