#!/usr/bin/env bash
# Installs the Debian 12 packages that building, running and testing Sluice need. Only missing
# packages are installed, so a second run costs one dpkg query.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config python3 clang-format
  # libraries linked into sluice
  libasio-dev libssl-dev zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
  libspdlog-dev libfmt-dev libcli11-dev
  # tests, fuzzing and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  # real Kafka clients for the integration tests and the load generator
  librdkafka-dev kcat python3-confluent-kafka python3-kafka python3-pytest
  # make bench: loopback TCP bandwidth beside the broker's figures
  iperf3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "Installing missing packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"
