#!/usr/bin/env bash
# Runs Changegate's benchmarks in release mode and prints the figures for BENCHMARKS.md.
# Each figure comes with its baseline measured in the same run on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${CLIENTS:-64}
seconds=${SECONDS_PER_RUN:-20}
cargo build --release -p changegate-bench -p changegate --quiet
echo "== machine"; nproc; uname -srm; date -u
echo "== openssl speed sha256 (the SHA-256 ceiling on this machine)"
openssl speed -seconds 2 -bytes 512 sha256 2>/dev/null | tail -n 2 || echo "openssl not available"
echo "== HTTP create+submit, $clients clients, $seconds s, SQLite"
./target/release/http_load "$clients" "$seconds"
echo "== gate decision latency (create + submit, auto-approved), ${PIPELINES:-32} pipelines, $seconds s, SQLite"
./target/release/gate_bench --pipelines "${PIPELINES:-32}" --seconds "$seconds"
echo "== policy evaluations (the default policy, one caller and every core)"
cargo run --release --quiet -p changegate-policy --example throughput
echo "== ledger"
./target/release/ledger_bench "${LEAVES:-1000000}" "${STORE_CHANGES:-20000}"
echo "== demo seed (20,000 changes, SQLite)"
directory=$(mktemp -d)
start=$(date +%s.%N)
./target/release/changegate demo --data-dir "$directory/demo" --no-serve --json >/dev/null
end=$(date +%s.%N)
echo "demo seed: $(echo "$end - $start" | bc) s"
rm -rf "$directory"
