#pragma once

// metadata_log: the ordered, durable sequence of metadata records (ARCHITECTURE decision 5 and
// "Cluster"). The controller appends; start-up (and, in cluster mode, every broker) reads from an
// offset and replays into the image. Two implementations exist today: memory_metadata_log for
// tests and file_metadata_log for a single node. An etcd implementation (cluster mode) maps a
// record group to one etcd transaction and offsets to revisions.
//
// Snapshots are not part of the interface yet: the single-node log is small (one record per
// topic or config change) and is replayed from offset 0. When they come, the interface gains
// `snapshot(image)` and `log_start_offset()`, and read() starts at the snapshot.
//
// Threading: one thread (the controller's) calls append(); read() runs at start-up before any
// append. Implementations need not be thread-safe.

#include <functional>
#include <span>
#include <vector>

#include "cluster/error.h"
#include "cluster/records.h"
#include "model/model.h"

namespace sluice::cluster {

// Records that must become durable together or not at all: one controller item (a topic with
// its configs, one resource's config changes). A group is never split across batches.
using record_group = std::vector<metadata_record>;

// Called for each record in offset order; a failure stops the read and is returned by read().
using record_visitor = std::function<cresult<void>(const logged_record&)>;

class metadata_log {
 public:
  virtual ~metadata_log() = default;

  // Appends the groups in order and returns once all of them are durable. Returns the offset of
  // the last record appended. On failure the caller acknowledges nothing; if next_offset() moved
  // anyway (written but not synced), the log refuses further appends, and after a restart a
  // prefix of whole groups may be present. Every group is non-empty; there is at least one.
  virtual cresult<model::offset> append(std::span<const record_group> groups) = 0;

  // Calls `visit` for every record at or after `from`, in offset order.
  virtual cresult<void> read(model::offset from, const record_visitor& visit) = 0;

  // The offset the next appended record will get (0 for an empty log).
  virtual model::offset next_offset() const = 0;
};

// Packs groups into batches no larger than `batch_bytes_target` (a single group larger than
// that gets a batch of its own) and encodes them at offsets from `base`. Shared by the
// implementations that store Kafka batches.
std::vector<std::vector<uint8_t>> encode_groups(model::offset base,
                                                std::span<const record_group> groups,
                                                int64_t timestamp_ms,
                                                size_t batch_bytes_target = size_t{1} << 20);

}  // namespace sluice::cluster
