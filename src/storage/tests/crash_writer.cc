// The writer process of the crash test (crash_test.cc): appends deterministic batches to one
// partition through a log_manager and, after every flush, prints "durable <offset>" on stdout.
// It never stops by itself; the test kills it with SIGKILL at a point it chooses.
//
//   storage_crash_writer <log dir> <flush every n batches>

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/logging.h"
#include "storage/log_manager.h"
#include "storage/tests/crash_batches.h"

namespace storage = sluice::storage;
namespace model = sluice::model;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <log dir> <flush every>\n", argv[0]);
    return 2;
  }
  sluice::set_log_level("error");
  storage::log_manager_config config;
  config.log_dirs = {argv[1]};
  config.defaults.segment_bytes = 64 * 1024;
  config.defaults.index_interval_bytes = 1024;
  storage::log_manager manager(storage::posix_file_system(), config);
  if (auto r = manager.start(); !r) {
    std::fprintf(stderr, "start: %s\n", r.error().describe().c_str());
    return 1;
  }
  model::topic_partition tp{"crash", model::partition_id(0)};
  storage::log* l = manager.get(tp);
  if (l == nullptr) l = *manager.create(tp);
  const int flush_every = std::atoi(argv[2]);
  for (int64_t appended = 1;; ++appended) {
    model::offset next = l->log_end_offset();
    auto batch = storage::testing::crash_batch(next);
    auto r = l->append(batch, storage::testing::crash_epoch(next));
    if (!r) {
      std::fprintf(stderr, "append: %s\n", r.error().describe().c_str());
      return 1;
    }
    if (appended % flush_every != 0) continue;
    if (auto f = l->flush(); !f) return 1;
    if (appended % (flush_every * 4) == 0) (void)manager.write_checkpoints();
    std::string line = fmt::format("durable {}\n", l->log_end_offset().value());
    // write(2), not stdio: the line must leave the process before the next append.
    if (::write(1, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 1;
  }
}
