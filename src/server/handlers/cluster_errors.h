#pragma once

// The handler boundary of the cluster subsystem (ARCHITECTURE decision 7): cluster error codes
// and config enums become Kafka's numbers here and nowhere else (cluster/README.md "Error
// mapping").

#include <cstdint>
#include <optional>
#include <string>

#include "cluster/config_resolver.h"
#include "cluster/error.h"
#include "cluster/records.h"
#include "protocol/errors.h"
#include "server/broker_context.h"
#include "server/controller_thread.h"

namespace sluice::server::handlers {

// The Kafka error for a cluster error. `storage_error` is what log_io becomes (versions without
// KAFKA_STORAGE_ERROR get UNKNOWN_SERVER_ERROR); `deletion_disabled` likewise for
// topic_deletion_disabled (DeleteTopics before v3 gets INVALID_REQUEST).
protocol::error_code kafka_error(
    cluster::errc code,
    protocol::error_code storage_error = protocol::error_code::kafka_storage_error,
    protocol::error_code deletion_disabled = protocol::error_code::topic_deletion_disabled);

// Kafka's ConfigSource numbers (DescribeConfigs v1+, CreateTopics v5+).
int8_t kafka_config_source(cluster::config_source source);
// Kafka's ConfigType numbers (DescribeConfigs v3+).
int8_t kafka_config_type(config::config_type type);

// Kafka's ConfigResource types that Sluice keeps configs for: TOPIC (2) and BROKER (4). Others
// (BROKER_LOGGER 8, CLIENT_METRICS 16, GROUP 32, unknown numbers) are nullopt: the handler
// answers that resource with INVALID_REQUEST, as Kafka does for types it does not handle.
std::optional<cluster::config_resource_type> config_resource_type(int8_t kafka_type);
std::string unsupported_resource_message(int8_t kafka_type);

// Runs `fn(controller)` on the controller's thread (server/controller_thread.h).
template <typename Fn>
auto call_controller(const broker_context& broker, Fn fn) {
  // The hook runs on the controller's thread right after `fn`, before the handler resumes, so
  // that a topic the handler created has its logs when the client hears of it.
  const std::function<void()>* after = &broker.after_controller_write;
  return on_controller(*broker.controller_executor, broker.controller,
                       [fn = std::move(fn), after](cluster::controller& c) mutable {
                         auto result = fn(c);
                         if (*after) (*after)();
                         return result;
                       });
}

}  // namespace sluice::server::handlers
