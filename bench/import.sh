#!/usr/bin/env bash
# History import rate: generates deterministic import files (history_csv) and imports them with
# the release binary into a fresh SQLite store, first whole, then again (everything skipped).
# Usage: bench/import.sh [changes...]   (default: 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p changegate-bench -p changegate --quiet
target=${CARGO_TARGET_DIR:-target}/release
echo "== machine"; nproc; uname -srm; date -u; uptime
for changes in "${@:-100000 1000000}"; do
  for count in $changes; do
    directory=$(mktemp -d)
    "$target/history_csv" --changes "$count" --out "$directory/files"
    echo "== import of $count changes ($(wc -l < "$directory/files/incidents.csv") incident lines), SQLite"
    for run in first again; do
      "$target/changegate" import --json --data-dir "$directory/store" \
        --changes "$directory/files/changes.csv" --incidents "$directory/files/incidents.csv" \
        | python3 -c "import json,sys; r=json.load(sys.stdin); print('$run: %d changes and %d incidents created, %d skipped, %d events, %.1f s, %.0f rows/s (%.0f changes/s)' % (r['changes_created'], r['incidents_created'], r['skipped_existing'], r['events_appended'], r['elapsed_ms']/1000, r['rows_per_second'], r['change_rows']/max(r['elapsed_ms'],1)*1000))"
    done
    du -sh "$directory/store" | sed 's/^/store size: /'
    rm -rf "$directory"
  done
done
