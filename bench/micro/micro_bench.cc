// Microbenchmarks of the hot paths (Google Benchmark): request decode and response encode,
// record-batch validation with CRC32C, and offset-index lookup. Programs that print figures;
// run from a release build: build/release/bench/micro/micro_bench.

#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "protocol/batch_builder.h"
#include "protocol/crc32c.h"
#include "protocol/header.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "protocol/record_batch.h"
#include "storage/file_system.h"
#include "storage/offset_index.h"

namespace {

using namespace sluice;
using namespace sluice::protocol;

// A batch of `records` records of `value_bytes` each, as a producer would send it.
std::vector<uint8_t> make_batch(int records, size_t value_bytes, compression_codec codec) {
  batch_builder b(codec);
  std::string value(value_bytes, 'v');
  for (int i = 0; i < records; ++i) {
    std::string key = "key-" + std::to_string(i);
    b.add(1700000000000 + i, bytes_of(key), bytes_of(value));
  }
  return b.build();
}

// A Produce v9 request body with one batch for each of `partitions` partitions.
std::vector<uint8_t> make_produce_body(const std::vector<uint8_t>& batch, int partitions) {
  produce_request req;
  req.acks = -1;
  req.timeout_ms = 30000;
  auto& topic = req.topic_data.emplace_back();
  topic.name = "bench";
  for (int p = 0; p < partitions; ++p) {
    auto& part = topic.partition_data.emplace_back();
    part.index = p;
    part.records = records_data::view(batch);
  }
  writer w;
  (void)req.encode(w, 9);
  return *std::move(w).finish().flatten();
}

void produce_request_decode(benchmark::State& state) {
  auto batch = make_batch(16, 1024, compression_codec::none);
  auto body = make_produce_body(batch, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    produce_request req;
    auto ok = decode_message(req, std::span<const uint8_t>(body), 9);
    benchmark::DoNotOptimize(ok);
  }
  // Record bytes are views into the frame, so the cost is per partition, not per byte.
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * state.range(0)));
}
BENCHMARK(produce_request_decode)->Arg(1)->Arg(100);

void metadata_response_encode(benchmark::State& state) {
  metadata_response resp;
  resp.brokers.push_back({.node_id = 1, .host = "127.0.0.1", .port = 9092});
  resp.cluster_id = "krHYFNKlRbKVXV9ZMawuLw";
  for (int t = 0; t < state.range(0); ++t) {
    auto& topic = resp.topics.emplace_back();
    topic.name = "topic-" + std::to_string(t);
    for (int p = 0; p < 6; ++p) {
      auto& part = topic.partitions.emplace_back();
      part.partition_index = p;
      part.leader_id = 1;
      part.replica_nodes = {1};
      part.isr_nodes = {1};
    }
  }
  for (auto _ : state) {
    writer w;
    auto ok = resp.encode(w, 12);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(w.bytes().data());
  }
}
BENCHMARK(metadata_response_encode)->Arg(10)->Arg(1000);

// What produce does to every batch: header, CRC32C over the batch, record count.
void batch_validate(benchmark::State& state) {
  auto batch = make_batch(static_cast<int>(state.range(0)), 1024, compression_codec::none);
  for (auto _ : state) {
    auto header = validate_batch(batch, /*deep=*/false);
    benchmark::DoNotOptimize(header);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}
BENCHMARK(batch_validate)->Arg(16)->Arg(1024);  // 16 KiB and 1 MiB batches of 1 KiB records

void batch_validate_deep(benchmark::State& state) {
  auto batch = make_batch(16, 1024, compression_codec::none);
  for (auto _ : state) {
    auto header = validate_batch(batch, /*deep=*/true);
    benchmark::DoNotOptimize(header);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}
BENCHMARK(batch_validate_deep);

void crc32c_throughput(benchmark::State& state) {
  std::vector<uint8_t> data(static_cast<size_t>(state.range(0)), 0x5a);
  for (auto _ : state) benchmark::DoNotOptimize(crc32c(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(crc32c_throughput)->Arg(16 << 10)->Arg(1 << 20);

// A full 10 MiB offset index (1.3M entries) and random lookups, as fetch does per partition.
void offset_index_lookup(benchmark::State& state) {
  auto dir = std::filesystem::temp_directory_path() / "sluice-micro-bench-index";
  std::filesystem::create_directories(dir);
  constexpr uint32_t index_bytes = 10 << 20;
  constexpr int64_t entry_bytes = 8;
  storage::offset_index index(storage::posix_file_system(), (dir / "0.index").string(),
                              model::offset(0), index_bytes);
  (void)index.load(0);
  int64_t entries = 0;
  while (entries < index_bytes / entry_bytes) {
    index.append(model::offset(entries * 4), static_cast<uint32_t>(entries * 64));
    ++entries;
  }
  std::mt19937_64 rng(42);
  for (auto _ : state) {
    auto found = index.lookup(model::offset(static_cast<int64_t>(rng() % (entries * 4))));
    benchmark::DoNotOptimize(found);
  }
  state.counters["entries"] = static_cast<double>(entries);
  std::filesystem::remove_all(dir);
}
BENCHMARK(offset_index_lookup);

}  // namespace

BENCHMARK_MAIN();
