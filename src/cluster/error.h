#pragma once

// The error type of the cluster subsystem (metadata log, image, controller). Handlers map `errc`
// to Kafka error codes (ARCHITECTURE decision 7); the names say which Kafka code each one becomes
// where that is not obvious.

#include <string>
#include <string_view>

#include "base/result.h"

namespace sluice::cluster {

enum class errc {
  invalid_topic_name,          // INVALID_TOPIC_EXCEPTION (also a '.'/'_' collision)
  topic_already_exists,        // TOPIC_ALREADY_EXISTS
  unknown_topic,               // UNKNOWN_TOPIC_OR_PARTITION
  unknown_topic_id,            // UNKNOWN_TOPIC_ID
  invalid_partitions,          // INVALID_PARTITIONS
  invalid_replication_factor,  // INVALID_REPLICATION_FACTOR
  invalid_replica_assignment,  // INVALID_REPLICA_ASSIGNMENT
  invalid_config,              // INVALID_CONFIG (unknown key, bad value, wrong operation)
  invalid_request,             // INVALID_REQUEST (duplicates, contradictory fields)
  topic_deletion_disabled,     // TOPIC_DELETION_DISABLED (delete.topic.enable=false)
  log_io,                      // the metadata log could not be written or read: KAFKA_STORAGE_ERROR
  log_corrupt,                 // a record in the metadata log does not decode (start-up fails)
};

std::string_view to_string(errc code);

struct error {
  errc code = errc::invalid_request;
  std::string message;
};

inline failure<error> make_failure(errc code, std::string message) {
  return failure(error{code, std::move(message)});
}

template <typename T>
using cresult = sluice::result<T, error>;

}  // namespace sluice::cluster
