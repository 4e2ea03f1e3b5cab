#!/usr/bin/env bash
# Risk model benchmark: per-project AUC/Brier on the JIT files, then training time on ~100k rows
# against scikit-learn's HistGradientBoostingClassifier on the same rows and features, same run.
#
# Usage: bash bench/risk_benchmark.sh [JIT_DIR]   (default ../shared/data/jit)
set -euo pipefail
cd "$(dirname "$0")/.."
JIT_DIR="${1:-../shared/data/jit}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-risk}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cargo build --release -q -p changegate-risk --example jit_all
EX="$CARGO_TARGET_DIR/release/examples/jit_all"

echo "== per-project benchmark (sort by date, train 80 %, test 20 %)"
"$EX" "$JIT_DIR"

echo "== same files rewritten in the held-out format (absolute la/ld/lt/nuc, Unix date)"
"$EX" "$JIT_DIR" --absolute | tail -1

echo "== training time on ~100k rows"
python3 bench/risk_sklearn.py build "$JIT_DIR" "$WORK/jit100k.csv" 100000
echo -n "changegate-risk: "
"$EX" --time-csv "$WORK/jit100k.csv"
# Older OpenBLAS workarounds slow a current numpy; unset them for this command only.
echo -n "scikit-learn:    "
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 bench/risk_sklearn.py time "$WORK/jit100k.csv"
