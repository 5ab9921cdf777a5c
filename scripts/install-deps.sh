#!/usr/bin/env bash
# Installs the Debian 12 packages that building, running and testing Sluice need. Only missing
# packages are installed, so a second run costs one dpkg query.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config python3 clang-format
  # libraries linked into sluice
  libasio-dev libssl-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev libxxhash-dev
  libspdlog-dev libfmt-dev libcli11-dev libcpp-httplib-dev
  # tests, fuzzing and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  # real Kafka clients for the integration tests and the load generator
  librdkafka-dev kcat python3-confluent-kafka python3-kafka python3-pytest
  # kafka-python's compression codecs (gzip is built in); xxhash for its lz4 in message format
  # 0 (the frame checksum of Kafka 0.8/0.9)
  python3-lz4 python3-snappy python3-zstandard python3-xxhash
  # sarama, built from Debian's packaged Go sources by the client-matrix tests
  golang-go golang-github-shopify-sarama-dev
  # make bench: loopback TCP bandwidth beside the broker's figures
  iperf3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing missing packages: ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# KafkaJS and its codecs for the integration tests, exactly as locked in package-lock.json
# (Node 20 and npm come with the machine, not from Debian 12, whose Node is older). `npm ci`
# runs only when node_modules is missing or was installed from another lockfile.
kafkajs_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/clients/kafkajs"
stamp="$kafkajs_dir/node_modules/.sluice-lock.sha256"
lock_sum="$(sha256sum "$kafkajs_dir/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  if ! command -v npm >/dev/null; then
    echo "npm (Node 20) is needed for the KafkaJS tests; install Node.js 20 and rerun" >&2
    exit 1
  fi
  echo "Installing KafkaJS into $kafkajs_dir/node_modules"
  (cd "$kafkajs_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" >"$stamp"
fi
