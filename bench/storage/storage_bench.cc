// Storage benchmarks (figures, not tests). Prints, in one run: the machine's sequential write(2)
// bandwidth and fdatasync latency; log append throughput for 1 KiB records in 16 KiB and 1 MiB
// batches without fsync and with group-commit fsync; read throughput; recovery time of 1 GiB of
// segments; start-up time of 10,000 partitions.
//
//   storage_bench [--dir D] [--gib N] [--partitions N] [--only append|read|recovery|startup]

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "base/logging.h"
#include "bench.h"
#include "storage/log_manager.h"
#include "storage/tests/test_util.h"

namespace sluice::bench {
namespace storage = sluice::storage;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string dir = "/tmp";
  double gib = 1.0;
  int partitions = 10000;
  std::string only;
};

using shard_queue = storage::testing::fake_shard;

std::unique_ptr<storage::log> open_log(const std::string& dir, storage::log_config config,
                                       storage::flusher* f, shard_queue* shard, bool clean) {
  storage::log_open_options o;
  o.clean_shutdown = clean;
  o.group_commit = f;
  if (shard != nullptr) o.post = shard->poster();
  auto l = storage::log::open(storage::posix_file_system(), dir, {"bench", model::partition_id(0)},
                              config, o);
  SLUICE_ASSERT(l.has_value(), "open {}: {}", dir, l.error().describe());
  return std::move(*l);
}

// Appends `total` bytes of `batch_bytes` batches of 1 KiB records. With group commit, up to
// `in_flight` appends wait for durability at once, as concurrent acks=all producers would.
void append_run(const std::string& dir, size_t batch_bytes, uint64_t total, bool fsync) {
  std::filesystem::remove_all(dir);
  storage::flusher syncer;
  shard_queue shard;
  if (fsync) syncer.start();
  auto l = open_log(dir, storage::log_config{}, fsync ? &syncer : nullptr, &shard, true);
  int records = static_cast<int>(batch_bytes / 1024);
  auto batch = storage::testing::make_batch(records, 1024 - 16, 0, 1);
  const int in_flight_max = 16;
  int in_flight = 0;
  uint64_t written = 0;
  uint64_t appends = 0;
  auto start = clock_type::now();
  while (written < total) {
    auto r = l->append(batch, model::leader_epoch(0));
    SLUICE_ASSERT(r.has_value(), "append: {}", r.error().describe());
    written += batch.size();
    ++appends;
    if (!fsync) continue;
    ++in_flight;
    l->sync(r->last_offset + 1, [&](storage::sresult<void> ok) {
      SLUICE_ASSERT(ok.has_value(), "sync failed");
      --in_flight;
    });
    while (in_flight >= in_flight_max) shard.run_one();
  }
  while (in_flight > 0) shard.run_one();
  double s = seconds_since(start);
  std::printf("append %-7s batches, %-15s: %7.0f MiB/s, %8.0f batches/s",
              batch_bytes >= (1 << 20) ? "1 MiB" : "16 KiB", fsync ? "group-commit" : "no fsync",
              mib_per_s(written, s), appends / s);
  if (fsync) {
    std::printf(", %llu fdatasyncs (%.1f batches each)",
                static_cast<unsigned long long>(syncer.syncs()),
                static_cast<double>(appends) / std::max<uint64_t>(1, syncer.syncs()));
  }
  std::printf("\n");
  syncer.stop();
  (void)l->close();
}

// Reads the whole log written by append_run with 16 KiB batches, 1 MiB per fetch, sending each
// range to /dev/null with sendfile(2) as a plaintext fetch would.
void read_run(const std::string& dir, size_t batch_bytes) {
  auto l = open_log(dir, storage::log_config{}, nullptr, nullptr, true);
  int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  auto sample = storage::testing::make_batch(static_cast<int>(batch_bytes / 1024), 1024 - 16, 0, 1);
  const int64_t records = static_cast<int64_t>(batch_bytes / 1024);
  uint64_t bytes = 0;
  uint64_t reads = 0;
  auto start = clock_type::now();
  for (model::offset next(0); next < l->log_end_offset();) {
    auto r = l->read(next, 1 << 20, l->log_end_offset(), true);
    SLUICE_ASSERT(r.has_value() && r->range, "read at {}", next.value());
    off_t position = static_cast<off_t>(r->range->position);
    ssize_t sent = ::sendfile(devnull, r->range->log->fd(), &position, r->range->length);
    SLUICE_ASSERT(sent == static_cast<ssize_t>(r->range->length), "sendfile {}", sent);
    bytes += r->range->length;
    ++reads;
    // The consumer's next offset: every batch has the same size and record count.
    next = r->range->first_offset +
           static_cast<int64_t>(std::max<uint64_t>(1, r->range->length / sample.size())) * records;
  }
  double s = seconds_since(start);
  ::close(devnull);
  std::printf(
      "read 16 KiB batches, 1 MiB fetches + sendfile to /dev/null (no bytes copied: "
      "the fetch path's cost): %.0f fetches/s\n",
      reads / s);
  // The same reads copied into memory with pread, as a TLS listener must.
  std::vector<uint8_t> buffer(2 << 20);
  bytes = 0;
  start = clock_type::now();
  for (model::offset next(0); next < l->log_end_offset();) {
    auto r = l->read(next, 1 << 20, l->log_end_offset(), true);
    SLUICE_ASSERT(r.has_value() && r->range, "read at {}", next.value());
    auto n = storage::read_exact(*r->range->log, r->range->position,
                                 std::span<uint8_t>(buffer.data(), r->range->length));
    SLUICE_ASSERT(n.has_value(), "pread");
    bytes += *n;
    next = r->range->first_offset +
           static_cast<int64_t>(std::max<uint64_t>(1, r->range->length / sample.size())) * records;
  }
  s = seconds_since(start);
  std::printf("read 16 KiB batches, 1 MiB fetches + pread copy (page cache warm): %.0f MiB/s\n",
              mib_per_s(bytes, s));
}

// Recovery of an unclean stop from recovery point 0: every batch's CRC32C is checked and both
// indexes rebuilt. The segments are whatever append_run left (1 GiB segments by default).
void recovery_run(const std::string& dir) {
  uint64_t bytes = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".log") bytes += e.file_size();
  }
  auto start = clock_type::now();
  auto l = open_log(dir, storage::log_config{}, nullptr, nullptr, false);
  double s = seconds_since(start);
  std::printf("recovery of %.2f GiB (%zu segments, page cache warm): %.2f s, %.0f MiB/s\n",
              static_cast<double>(bytes) / (1 << 30), l->segment_count(), s, mib_per_s(bytes, s));
}

// Creates `count` partitions with a few batches each, stops cleanly, then times start().
void startup_run(const std::string& dir, int count) {
  std::filesystem::remove_all(dir);
  storage::log_manager_config config;
  config.log_dirs = {dir};
  {
    storage::log_manager m(storage::posix_file_system(), config);
    SLUICE_ASSERT(m.start().has_value(), "start");
    auto batch = storage::testing::make_batch(4, 200, 0, 1);
    for (int p = 0; p < count; ++p) {
      auto l = m.create({fmt::format("t{}", p / 100), model::partition_id(p % 100)});
      SLUICE_ASSERT(l.has_value(), "create");
      for (int i = 0; i < 3; ++i) (void)(*l)->append(batch, model::leader_epoch(0));
    }
    auto start = clock_type::now();
    SLUICE_ASSERT(m.stop().has_value(), "stop");
    std::printf("clean stop of %d partitions: %.2f s\n", count, seconds_since(start));
  }
  for (bool clean : {true, false}) {
    if (!clean) std::filesystem::remove(dir + "/.kafka_cleanshutdown");
    storage::log_manager m(storage::posix_file_system(), config);
    auto start = clock_type::now();
    SLUICE_ASSERT(m.start().has_value(), "start");
    double s = seconds_since(start);
    std::printf("start-up of %zu partitions after %s shutdown (%u load threads): %.2f s\n",
                m.size(), clean ? "a clean" : "an unclean (recovery-point checkpoint intact)",
                std::max(1u, std::thread::hardware_concurrency()), s);
    SLUICE_ASSERT(m.stop().has_value(), "stop");
  }
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--dir") o.dir = argv[i + 1];
    if (k == "--gib") o.gib = std::atof(argv[i + 1]);
    if (k == "--partitions") o.partitions = std::atoi(argv[i + 1]);
    if (k == "--only") o.only = argv[i + 1];
  }
  return o;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  sluice::set_log_level("warn");
  auto o = parse(argc, argv);
  std::string root = o.dir + "/sluice-storage-bench";
  std::filesystem::create_directories(root);
  auto total = static_cast<uint64_t>(o.gib * (1ULL << 30));
  auto want = [&](const char* name) { return o.only.empty() || o.only == name; };
  std::printf("storage bench in %s, %u hardware threads\n", root.c_str(),
              std::thread::hardware_concurrency());
  measure_machine(root, std::min<uint64_t>(total, 1ULL << 30));
  if (want("append") || want("read") || want("recovery")) {
    append_run(root + "/a-0", 1 << 20, total, false);
    append_run(root + "/a-0", 1 << 20, total / 4, true);
    append_run(root + "/a-0", 16 << 10, total / 4, true);
    append_run(root + "/a-0", 16 << 10, total, false);  // kept for the read and recovery runs
  }
  if (want("read") || want("append")) read_run(root + "/a-0", 16 << 10);
  if (want("recovery") || want("append")) recovery_run(root + "/a-0");
  if (want("startup")) startup_run(root + "/startup", o.partitions);
  std::filesystem::remove_all(root);
  return 0;
}
