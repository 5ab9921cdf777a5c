#pragma once

// The coordinator's error codes. Handlers map them to Kafka's (server/handlers/group_errors.h);
// each is named after the Kafka error it becomes.

#include <string_view>

namespace sluice::coordinator {

enum class errc {
  none,
  coordinator_not_available,  // __consumer_offsets is not there (yet) or the append failed
  not_coordinator,            // the partition is not hosted here
  load_in_progress,           // the partition is still being replayed
  invalid_group_id,
  unknown_member_id,
  member_id_required,
  illegal_generation,
  rebalance_in_progress,
  inconsistent_group_protocol,
  invalid_session_timeout,
  group_max_size_reached,
  fenced_instance_id,
  offset_metadata_too_large,
  group_id_not_found,
  non_empty_group,
  group_subscribed_to_topic,
  unknown_topic_or_partition,
  unknown_server_error,
};

std::string_view to_string(errc code);

}  // namespace sluice::coordinator
