#!/usr/bin/env bash
# Load time of the metrics faces on large stores: GET /api/v1/metrics and the /kpis page, on the
# 20,000-change demo store and on a store of KPIS_CHANGES (default 1,000,000) imported changes
# (crates/bench/src/bin/kpis_store.rs). For each store a fresh `changegate serve` is started:
# the first request builds the metrics index (cold); then each of four requests (API and page,
# whole history and one service over the last 90 days) is repeated REPETITIONS times (warm), and
# the min and median of curl's total time are printed, with the page's size and the server's
# resident memory before and after the index was built. Finally one new change is made and the
# next request is timed: the catch-up from the events, not a rebuild.
#
# Usage: bench/kpis_page.sh [WORK_DIR]   (stores are kept in WORK_DIR when given, reused if there)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
repetitions=${REPETITIONS:-20}
big=${KPIS_CHANGES:-1000000}
work=${1:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release -p changegate -p changegate-bench --quiet
changegate="$target/release/changegate"

server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true' EXIT

rss_mib() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# min and median of the numbers on standard input, in milliseconds (input in seconds)
stats() { sort -n | awk '{ v[NR] = $1 * 1000 } END { printf "min %.1f ms, median %.1f ms", v[1], v[int((NR + 1) / 2)] }'; }

timed() { # URL [curl options…]: prints seconds
  local url=$1; shift
  curl -s -o /dev/null -w '%{time_total}\n' "$@" "$url"
}

measure() { # LABEL DATA_DIR TOKEN
  local label=$1 data_dir=$2 token=$3
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  CHANGEGATE_LOG=info,changegate_service=info "$changegate" serve --data-dir "$data_dir" --listen "127.0.0.1:$port" \
    >"$work/serve-$label.log" 2>&1 &
  server_pid=$!
  local base="http://127.0.0.1:$port"
  until curl -sf "$base/readyz" >/dev/null; do sleep 0.2; done
  local auth=(-H "Authorization: Bearer $token")
  echo "== $label ($(curl -s "${auth[@]}" "$base/api/v1/ledger/status" | jq -r .size) events)"
  echo "server resident memory before the first metrics request: $(rss_mib "$server_pid") MiB"
  echo "cold GET /api/v1/metrics (builds the index): $(timed "$base/api/v1/metrics" "${auth[@]}" | stats)"
  echo "server resident memory after: $(rss_mib "$server_pid") MiB"
  grep -o 'metrics index built.*' "$work/serve-$label.log" | tail -n 1 || true
  local report service to from
  report=$(curl -s "${auth[@]}" "$base/api/v1/metrics")
  echo "report: $(echo "$report" | jq -c '{deployments, change_failure_rate, lead_time_median_hours, weeks: (.weekly | length), services: (.by_service | length)}')"
  service=$(echo "$report" | jq -r '.by_service[0].name')
  to=$(echo "$report" | jq -r '.period.to[0:10]')
  from=$(date -u -d "$to - 90 days" +%F)
  local filtered="service=$service&from=$from&to=$to"
  local cookie
  cookie=$(curl -s -D - -o /dev/null --data-urlencode "token=$token" "$base/login" \
    | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(changegate_session=[^;]*\).*/\1/p')
  for path in "/api/v1/metrics" "/api/v1/metrics?$filtered"; do
    echo "warm GET $path: $(for _ in $(seq "$repetitions"); do timed "$base$path" "${auth[@]}"; done | stats)"
  done
  for path in "/kpis" "/kpis?$filtered"; do
    local size
    size=$(curl -s -o /dev/null -w '%{size_download}' -H "Cookie: $cookie" "$base$path")
    echo "warm GET $path ($size bytes): $(for _ in $(seq "$repetitions"); do timed "$base$path" -H "Cookie: $cookie"; done | stats)"
  done
  # One more change, then the next request catches up from its events.
  curl -s -o /dev/null "${auth[@]}" -H 'Content-Type: application/json' \
    -d "{\"title\":\"bench\",\"type\":\"normal\",\"service\":\"$service\",\"environment\":\"staging\"}" "$base/api/v1/changes"
  echo "GET /api/v1/metrics after one new change (catch-up): $(timed "$base/api/v1/metrics" "${auth[@]}" | stats)"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
}

echo "== machine"; nproc; uname -srm; date -u; uptime

demo_dir="$work/demo"
if [ ! -f "$work/demo.json" ]; then
  start=$(date +%s.%N)
  "$changegate" demo --data-dir "$demo_dir" --no-serve --json --end 2026-11-26T10:00:00Z >"$work/demo.json" \
    2>"$work/demo.log"
  echo "demo seed: $(echo "$(date +%s.%N) - $start" | bc) s"
fi
measure demo-20k "$demo_dir" "$(jq -r .admin_token "$work/demo.json")"

big_dir="$work/big"
if [ ! -f "$work/big.json" ]; then
  "$target/release/kpis_store" "$big_dir" "$big" >"$work/big.json"
  echo "store of $big imported changes: $(jq -c . "$work/big.json" | sed 's/"admin_token":"[^"]*",//')"
fi
measure "imported-$big" "$big_dir" "$(jq -r .admin_token "$work/big.json")"
