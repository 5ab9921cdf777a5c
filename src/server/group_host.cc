#include "server/group_host.h"

#include "coordinator/placement.h"

namespace sluice::server {

model::topic_partition group_host::tp(int32_t partition) {
  return {std::string(coordinator::offsets_topic), model::partition_id(partition)};
}

int32_t group_host::partition_count() const {
  auto topic = _images.current()->find_topic(coordinator::offsets_topic);
  return topic ? topic->partition_count() : 0;
}

asio::any_io_executor group_host::executor(int32_t partition) {
  return _registry.executor(_registry.shard_of(tp(partition)));
}

void group_host::post(int32_t partition, std::function<void(storage::log*)> fn) {
  _registry.post_to_owner(tp(partition), std::move(fn));
}

void group_host::appended(int32_t partition) {
  _registry.notify_append(tp(partition));
}

model::leader_epoch group_host::leader_epoch(int32_t partition) const {
  auto topic = _images.current()->find_topic(coordinator::offsets_topic);
  if (!topic || partition >= topic->partition_count()) return model::leader_epoch(0);
  return topic->partitions[static_cast<size_t>(partition)].leader_epoch;
}

coordinator::group_settings group_settings_from(const config::broker_config& config) {
  coordinator::group_settings s;
  auto i32 = [&](std::string_view key) { return static_cast<int32_t>(config.get_int(key)); };
  s.min_session_timeout_ms = i32("group.min.session.timeout.ms");
  s.max_session_timeout_ms = i32("group.max.session.timeout.ms");
  s.initial_rebalance_delay_ms = i32("group.initial.rebalance.delay.ms");
  s.max_size = i32("group.max.size");
  s.offset_metadata_max_bytes = i32("offset.metadata.max.bytes");
  s.offsets_retention_ms = config.get_int("offsets.retention.minutes") * 60 * 1000;
  if (const int64_t ms = config.get_int("sluice.offsets.retention.ms"); ms >= 0)
    s.offsets_retention_ms = ms;
  s.retention_check_interval_ms = config.get_int("offsets.retention.check.interval.ms");
  return s;
}

}  // namespace sluice::server
