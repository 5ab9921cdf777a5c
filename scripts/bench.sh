#!/usr/bin/env bash
# make bench: builds the release tree and runs the standard benchmark suite (bench/suite.py)
# against a fresh broker, beside the machine's limits measured in the same run. Figures go to
# the terminal, build/bench/results.json and build/bench/results.md.
#
#   BENCH_SCALE=0.2 make bench   # smaller record counts and shorter runs (default 1.0)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build/release}
JOBS=${JOBS:-$(nproc)}

scripts/install-deps.sh
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$BUILD_DIR" -j "$JOBS" sluice loadgen null_sink conn_bench storage_bench
# 1,000 connections need as many descriptors in the broker and in conn_bench.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
BUILD_DIR=$BUILD_DIR exec /usr/bin/python3 bench/suite.py
