#include "cluster/file_metadata_log.h"

#include <fmt/format.h>

#include "base/logging.h"
#include "protocol/record_batch.h"

namespace sluice::cluster {

namespace {

// How much one read() pulls from the segment at a time; a larger batch comes whole.
constexpr uint64_t read_chunk_bytes = uint64_t{4} << 20;

failure<error> storage_failure(const storage::error& e) {
  auto code = e.code == storage::errc::corrupt ? errc::log_corrupt : errc::log_io;
  return make_failure(code, fmt::format("metadata log: {}", e.describe()));
}

// The partition's settings: no retention, and batches as large as the controller writes.
storage::log_config metadata_log_config() {
  storage::log_config config;
  config.retention_ms = -1;
  config.retention_bytes = -1;
  config.max_message_bytes = static_cast<int32_t>(metadata_batch_bytes_max);
  return config;
}

// The bytes of the .log segments in `dir`, to report how much recovery cut.
uint64_t segment_bytes_in(storage::file_system& fs, const std::string& dir) {
  auto names = fs.list_dir(dir);
  if (!names) return 0;
  uint64_t total = 0;
  for (const auto& name : *names) {
    if (!name.ends_with(".log")) continue;
    auto size = fs.file_size(storage::join_path(dir, name));
    if (size) total += *size;
  }
  return total;
}

// Calls `visit` for the records at or after `from` in the whole batches of `bytes`; returns the
// offset after the last whole batch, so that a batch cut by the read size is read again.
cresult<model::offset> visit_batches(std::span<const uint8_t> bytes, model::offset from,
                                     const record_visitor& visit) {
  model::offset next = from;
  while (!bytes.empty()) {
    auto header = protocol::read_batch_header(bytes);
    if (!header || header->size_bytes() > bytes.size()) break;  // cut by the read size
    auto records = decode_batch(bytes.first(header->size_bytes()));
    if (!records) return failure(records.error());
    for (const auto& record : *records) {
      if (record.offset < from) continue;
      auto visited = visit(record);
      if (!visited) return failure(visited.error());
    }
    next = model::offset(header->last_offset() + 1);
    bytes = bytes.subspan(header->size_bytes());
  }
  return next;
}

}  // namespace

std::string metadata_log_directory(const config::broker_config& config) {
  if (!config.is_null("metadata.log.dir")) return config.get_string("metadata.log.dir");
  auto dirs = config.log_dirs();
  // An empty log.dirs is the config layer's to reject; until it does, fall back to log.dir.
  return dirs.empty() ? config.get_string("log.dir") : dirs.front();
}

cresult<std::unique_ptr<file_metadata_log>> file_metadata_log::open(const std::string& log_dir,
                                                                    storage::file_system& fs) {
  if (auto made = fs.mkdir(log_dir); !made) return storage_failure(made.error());
  const std::string dir = storage::join_path(log_dir, std::string(metadata_partition_dir));
  const uint64_t bytes_before = fs.exists(dir) ? segment_bytes_in(fs, dir) : 0;
  // Always opened as after an unclean stop, from offset 0: the metadata log is small, and a full
  // check at start is what makes its contents trustworthy without a clean-shutdown marker.
  storage::log_open_options options;
  options.recovery_point = model::offset(0);
  options.clean_shutdown = false;
  auto opened = storage::log::open(
      fs, dir, model::topic_partition{"__cluster_metadata", model::partition_id(0)},
      metadata_log_config(), options);
  if (!opened) return storage_failure(opened.error());
  std::unique_ptr<file_metadata_log> log(new file_metadata_log(std::move(*opened)));
  log->_recovery.valid_bytes = log->_log->size_bytes();
  log->_recovery.truncated_bytes =
      bytes_before > log->_recovery.valid_bytes ? bytes_before - log->_recovery.valid_bytes : 0;
  if (log->_recovery.truncated_bytes > 0) {
    logger("cluster")->warn("metadata log {}: recovery dropped a torn tail of {} bytes", dir,
                            log->_recovery.truncated_bytes);
  }
  // Decoding everything now means a log this build cannot read stops the broker at start, not
  // halfway through replay.
  auto decoded =
      log->read(model::offset(0), [](const logged_record&) -> cresult<void> { return {}; });
  if (!decoded) return failure(decoded.error());
  return log;
}

cresult<model::offset> file_metadata_log::append(std::span<const record_group> groups) {
  auto batches = encode_groups(_log->log_end_offset(), groups, _log->now_ms());
  std::vector<uint8_t> bytes;
  for (const auto& batch : batches) bytes.insert(bytes.end(), batch.begin(), batch.end());
  auto appended = _log->append(bytes, model::leader_epoch(0));
  if (!appended) return storage_failure(appended.error());
  // On a failed flush the storage log marks itself failed and refuses later appends: after a
  // failed fdatasync nothing written since the last good one can be trusted.
  if (auto flushed = _log->flush(); !flushed) return storage_failure(flushed.error());
  return appended->last_offset;
}

cresult<void> file_metadata_log::read(model::offset from, const record_visitor& visit) {
  model::offset position = std::max(from, _log->log_start_offset());
  std::vector<uint8_t> buffer;
  while (position < _log->log_end_offset()) {
    auto range = _log->read(position, read_chunk_bytes, _log->log_end_offset(), true);
    if (!range) return storage_failure(range.error());
    if (!range->range) break;
    buffer.resize(range->range->length);
    auto got = storage::read_exact(*range->range->log, range->range->position, buffer);
    if (!got) return storage_failure(got.error());
    if (*got != buffer.size()) {
      return make_failure(errc::log_io, fmt::format("metadata log {}: short read", dir()));
    }
    auto next = visit_batches(buffer, from, visit);
    if (!next) return failure(next.error());
    if (*next <= position) {
      return make_failure(
          errc::log_corrupt,
          fmt::format("metadata log {}: no whole batch at offset {}", dir(), position.value()));
    }
    position = *next;
  }
  return {};
}

}  // namespace sluice::cluster
