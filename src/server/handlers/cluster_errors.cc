#include "server/handlers/cluster_errors.h"

#include <fmt/format.h>

namespace sluice::server::handlers {

using protocol::error_code;

error_code kafka_error(cluster::errc code, error_code storage_error, error_code deletion_disabled) {
  switch (code) {
    case cluster::errc::invalid_topic_name:
      return error_code::invalid_topic_exception;
    case cluster::errc::topic_already_exists:
      return error_code::topic_already_exists;
    case cluster::errc::unknown_topic:
      return error_code::unknown_topic_or_partition;
    case cluster::errc::unknown_topic_id:
      return error_code::unknown_topic_id;
    case cluster::errc::invalid_partitions:
      return error_code::invalid_partitions;
    case cluster::errc::invalid_replication_factor:
      return error_code::invalid_replication_factor;
    case cluster::errc::invalid_replica_assignment:
      return error_code::invalid_replica_assignment;
    case cluster::errc::invalid_config:
      return error_code::invalid_config;
    case cluster::errc::invalid_request:
      return error_code::invalid_request;
    case cluster::errc::topic_deletion_disabled:
      return deletion_disabled;
    case cluster::errc::log_io:
    case cluster::errc::log_corrupt:
      return storage_error;
  }
  return error_code::unknown_server_error;
}

int8_t kafka_config_source(cluster::config_source source) {
  switch (source) {
    case cluster::config_source::topic_override:
      return 1;  // DYNAMIC_TOPIC_CONFIG
    case cluster::config_source::dynamic_broker:
      return 2;  // DYNAMIC_BROKER_CONFIG
    case cluster::config_source::dynamic_default_broker:
      return 3;  // DYNAMIC_DEFAULT_BROKER_CONFIG
    case cluster::config_source::static_broker:
      return 4;  // STATIC_BROKER_CONFIG
    case cluster::config_source::default_value:
      return 5;  // DEFAULT_CONFIG
  }
  return 0;  // UNKNOWN
}

int8_t kafka_config_type(config::config_type type) {
  switch (type) {
    case config::config_type::boolean:
      return 1;
    case config::config_type::string:
      return 2;
    case config::config_type::int32:
      return 3;
    case config::config_type::int64:
      return 5;
    case config::config_type::float64:
      return 6;
    case config::config_type::list:
      return 7;
    case config::config_type::password:
      return 9;
  }
  return 0;  // UNKNOWN
}

std::optional<cluster::config_resource_type> config_resource_type(int8_t kafka_type) {
  if (kafka_type == 2) return cluster::config_resource_type::topic;
  if (kafka_type == 4) return cluster::config_resource_type::broker;
  return std::nullopt;
}

std::string unsupported_resource_message(int8_t kafka_type) {
  if (kafka_type == 8) return "BROKER_LOGGER resources are not supported by this broker.";
  return fmt::format("Unsupported resource type: {}.", kafka_type);
}

}  // namespace sluice::server::handlers
