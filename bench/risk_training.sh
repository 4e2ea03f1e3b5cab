#!/usr/bin/env bash
# Risk model training and scoring time on 100,000 rows, against scikit-learn's
# HistGradientBoostingClassifier on the same rows, same features, same split, same run.
#
# Data: every row with a date of the JIT files in JIT_DIR, sorted by commit date, the oldest 125,000
# kept (bench/risk_sklearn.py build-by-date). Both sides sort by date, train on the oldest 80 %
# (exactly 100,000 rows) and test on the newest 25,000, so their test AUCs are comparable.
#
# - ours, full training: `changegate risk benchmark --csv … --train-fraction 0.8` (two boosting
#   fits + Platt calibration, as the product trains), three runs; its `train_seconds` and
#   `score_micros_per_row` (one `predict` call per change).
# - ours, one boosting fit and the full training on the same 100,000 rows, fastest of three:
#   `jit_all --time-csv` (the like-for-like figure against one HGB fit).
# - scikit-learn: the same tree budget (200 trees, depth 3, learning rate 0.05, 127 bins, no early
#   stopping) and its defaults (100 trees of up to 31 leaves), fastest of three fits each; scoring
#   per row in one batch call and in single-row calls.
#
# Usage: bash bench/risk_training.sh [JIT_DIR]   (default ../shared/data/jit)
# Needs python3 (installs scikit-learn with pip when missing). CHANGEGATE=path/to/changegate skips
# building the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
JIT_DIR="${1:-../shared/data/jit}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target-risk}"
TRAIN_ROWS=100000
ALL_ROWS=125000
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ -z "${CHANGEGATE:-}" ]; then
  cargo build --release -q -p changegate
  CHANGEGATE="$CARGO_TARGET_DIR/release/changegate"
fi
cargo build --release -q -p changegate-risk --example jit_all
JIT_ALL="$CARGO_TARGET_DIR/release/examples/jit_all"
python3 -c 'import sklearn' 2>/dev/null || python3 -m pip install --quiet scikit-learn

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== data (oldest $ALL_ROWS rows by commit date; the oldest $TRAIN_ROWS train)"
python3 bench/risk_sklearn.py build-by-date "$JIT_DIR" "$WORK/rows.csv" "$ALL_ROWS"
python3 bench/risk_sklearn.py build-by-date "$JIT_DIR" "$WORK/train.csv" "$TRAIN_ROWS" >/dev/null

echo "== changegate risk benchmark (full training: two fits + calibration), three runs"
for run in 1 2 3; do
  echo -n "run $run: "
  "$CHANGEGATE" risk benchmark --json --csv "$WORK/rows.csv" --train-fraction 0.8
done

echo "== changegate-risk on the $TRAIN_ROWS training rows, fastest of three (single fit and full training)"
"$JIT_ALL" --time-csv "$WORK/train.csv"

echo "== scikit-learn HistGradientBoostingClassifier, same rows and split, fastest of three fits"
# Older OpenBLAS workarounds slow a current numpy; unset them for this command only.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 bench/risk_sklearn.py split "$WORK/rows.csv" 0.8
