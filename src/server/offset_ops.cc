#include "server/offset_ops.h"

#include <fmt/format.h>

#include <vector>

#include "base/logging.h"
#include "storage/leader_epoch_cache.h"

namespace sluice::server {

namespace {

partition_error not_hosted(const model::topic_partition& tp) {
  return {partition_errc::not_hosted,
          fmt::format("{}-{} has no log on this broker yet", tp.topic, tp.partition.value())};
}

partition_error storage_failure(const storage::error& e) {
  if (e.code == storage::errc::offset_out_of_range)
    return {partition_errc::offset_out_of_range, e.describe()};
  return {partition_errc::storage_error, e.describe()};
}

epoch_end_offset_outcome end_offset_on_owner(storage::log& l, model::leader_epoch current_leader,
                                             model::leader_epoch requested) {
  auto found =
      leader_epoch_end_offset(l.epochs().entries(), current_leader, requested, l.log_end_offset());
  if (!found) return {};
  return {std::nullopt, found->epoch.value(), found->start_offset.value()};
}

delete_records_outcome delete_on_owner(storage::log& l, int64_t offset) {
  auto target = delete_records_target(offset, l.high_watermark(), l.config().cleanup_delete);
  if (!target) return {target.error()};
  bool moved = *target > l.log_start_offset();
  if (auto r = l.advance_log_start_offset(*target); !r) return {storage_failure(r.error())};
  if (moved) {
    logger("server")->info("{}: log start offset moved to {} by DeleteRecords", l.dir(),
                           l.log_start_offset().value());
  }
  return {std::nullopt, l.log_start_offset().value(), moved};
}

}  // namespace

std::optional<storage::epoch_entry> leader_epoch_end_offset(
    std::vector<storage::epoch_entry> entries, model::leader_epoch current_leader,
    model::leader_epoch requested, model::offset log_end) {
  if (current_leader.value() >= 0 && (entries.empty() || entries.back().epoch < current_leader)) {
    entries.push_back({current_leader, log_end});
  }
  return storage::epoch_end_offset(entries, requested, log_end);
}

epoch_check check_current_leader_epoch(int32_t current_leader_epoch, int32_t partition_epoch) {
  if (current_leader_epoch == -1) return epoch_check::ok;
  if (current_leader_epoch < partition_epoch) return epoch_check::fenced;
  if (current_leader_epoch > partition_epoch) return epoch_check::unknown;
  return epoch_check::ok;
}

result<model::offset, partition_error> delete_records_target(int64_t requested,
                                                             model::offset high_watermark,
                                                             bool cleanup_delete) {
  if (!cleanup_delete) {
    return failure(partition_error{partition_errc::policy_violation,
                                   "records cannot be deleted: cleanup.policy has no \"delete\""});
  }
  int64_t target = requested == delete_to_high_watermark ? high_watermark.value() : requested;
  if (target < 0 || target > high_watermark.value()) {
    return failure(partition_error{partition_errc::offset_out_of_range,
                                   fmt::format("offset {} is outside [0, high watermark {}]",
                                               target, high_watermark.value())});
  }
  return model::offset(target);
}

asio::awaitable<epoch_end_offset_outcome> epoch_end_offset(partition_registry& registry,
                                                           model::topic_partition tp,
                                                           model::leader_epoch current_leader,
                                                           model::leader_epoch requested) {
  return registry.run_on_owner(
      tp, [tp, current_leader, requested](storage::log* l) -> epoch_end_offset_outcome {
        if (l == nullptr) return {not_hosted(tp)};
        return end_offset_on_owner(*l, current_leader, requested);
      });
}

asio::awaitable<delete_records_outcome> delete_records_before(partition_registry& registry,
                                                              model::topic_partition tp,
                                                              int64_t offset) {
  return registry.run_on_owner(tp, [tp, offset](storage::log* l) -> delete_records_outcome {
    if (l == nullptr) return {not_hosted(tp)};
    return delete_on_owner(*l, offset);
  });
}

asio::awaitable<std::optional<log_dir_partition>> describe_partition(partition_registry& registry,
                                                                     model::topic_partition tp) {
  return registry.run_on_owner(tp, [](storage::log* l) -> std::optional<log_dir_partition> {
    if (l == nullptr) return std::nullopt;
    return log_dir_partition{static_cast<int64_t>(l->size_bytes()), l->failed()};
  });
}

}  // namespace sluice::server
