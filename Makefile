# Sluice's two commands: `make run` and `make test`. Both install what is missing first.
# `make bench` runs the benchmark suite (bench/README.md).

BUILD_DIR ?= build/release
ASAN_DIR ?= build/asan
FUZZ_DIR ?= build/fuzz
DATA_DIR ?= data
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps build run test test-unit test-asan fuzz bench format format-check clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@ninja -C $(BUILD_DIR) -j $(JOBS)

# Starts a single-node broker on 127.0.0.1:9092 with its data in ./data.
run: build
	$(BUILD_DIR)/src/app/sluice start --override log.dirs=$(abspath $(DATA_DIR))

# Every test: format check, unit + integration tests, the same under ASan+UBSan, bounded fuzzing.
test: deps
	@scripts/test.sh

# The benchmark suite: release build, a fresh broker, the machine's limits; about 5-15 minutes.
bench: deps
	@BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) scripts/bench.sh

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

format-check:
	@scripts/format-check.sh

clean:
	rm -rf build
