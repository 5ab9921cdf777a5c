#include "server/handlers/group_errors.h"

#include "coordinator/placement.h"
#include "server/handlers/cluster_errors.h"

namespace sluice::server::handlers {

int16_t kafka_error(coordinator::errc code) {
  using coordinator::errc;
  using protocol::error_code;
  auto k = [](error_code c) { return static_cast<int16_t>(c); };
  switch (code) {
    case errc::none:
      return 0;
    case errc::coordinator_not_available:
      return k(error_code::coordinator_not_available);
    case errc::not_coordinator:
      return k(error_code::not_coordinator);
    case errc::load_in_progress:
      return k(error_code::coordinator_load_in_progress);
    case errc::invalid_group_id:
      return k(error_code::invalid_group_id);
    case errc::unknown_member_id:
      return k(error_code::unknown_member_id);
    case errc::member_id_required:
      return k(error_code::member_id_required);
    case errc::illegal_generation:
      return k(error_code::illegal_generation);
    case errc::rebalance_in_progress:
      return k(error_code::rebalance_in_progress);
    case errc::inconsistent_group_protocol:
      return k(error_code::inconsistent_group_protocol);
    case errc::invalid_session_timeout:
      return k(error_code::invalid_session_timeout);
    case errc::group_max_size_reached:
      return k(error_code::group_max_size_reached);
    case errc::fenced_instance_id:
      return k(error_code::fenced_instance_id);
    case errc::offset_metadata_too_large:
      return k(error_code::offset_metadata_too_large);
    case errc::group_id_not_found:
      return k(error_code::group_id_not_found);
    case errc::non_empty_group:
      return k(error_code::non_empty_group);
    case errc::group_subscribed_to_topic:
      return k(error_code::group_subscribed_to_topic);
    case errc::unknown_topic_or_partition:
      return k(error_code::unknown_topic_or_partition);
    case errc::unknown_server_error:
      return k(error_code::unknown_server_error);
  }
  return k(error_code::unknown_server_error);
}

std::string client_host(const std::string& client_address) {
  auto colon = client_address.rfind(':');
  return "/" + (colon == std::string::npos ? client_address : client_address.substr(0, colon));
}

asio::awaitable<bool> ensure_offsets_topic(const broker_context& broker) {
  const std::string name(coordinator::offsets_topic);
  if (broker.images->current()->find_topic(name)) co_return true;
  const auto& config = *broker.config;
  cluster::new_topic topic;
  topic.name = name;
  topic.num_partitions = static_cast<int32_t>(config.get_int("offsets.topic.num.partitions"));
  // Capped at the number of brokers, as Kafka does: one on a single node.
  topic.replication_factor = 1;
  topic.configs = {
      {"cleanup.policy", "compact"},
      {"compression.type", "producer"},
      {"segment.bytes", std::to_string(config.get_int("offsets.topic.segment.bytes"))},
  };
  auto call = call_controller(broker, [topic = std::move(topic)](cluster::controller& c) {
    return c.create_topics({topic}, /*validate_only=*/false);
  });
  auto created = co_await std::move(call);
  if (!created.empty() && !created[0] &&
      created[0].error().code != cluster::errc::topic_already_exists) {
    logger("server")->error("cannot create {}: {}", name, created[0].error().message);
  }
  co_return broker.images->current()->find_topic(name) != nullptr;
}

asio::awaitable<void> ensure_offsets_topic_for_v0(const request_context& ctx) {
  if (ctx.version() != 0) co_return;
  auto ensure = ensure_offsets_topic(*ctx.broker);
  co_await std::move(ensure);
}

}  // namespace sluice::server::handlers
