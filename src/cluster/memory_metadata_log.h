#pragma once

// memory_metadata_log: a metadata_log that keeps its batches in memory, for tests. It stores the
// same Kafka batches as the file log and decodes them on read, so tests exercise the codec.
// fail_appends() makes appends fail, to test what the controller does when the log cannot write.
//
// Not thread-safe.

#include <cstdint>
#include <vector>

#include "cluster/metadata_log.h"

namespace sluice::cluster {

class memory_metadata_log final : public metadata_log {
 public:
  cresult<model::offset> append(std::span<const record_group> groups) override;
  cresult<void> read(model::offset from, const record_visitor& visit) override;
  model::offset next_offset() const override { return _next_offset; }

  void fail_appends(bool on) { _fail_appends = on; }
  const std::vector<std::vector<uint8_t>>& batches() const { return _batches; }

 private:
  std::vector<std::vector<uint8_t>> _batches;
  model::offset _next_offset{0};
  bool _fail_appends = false;
};

}  // namespace sluice::cluster
