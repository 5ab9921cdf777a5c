#include "cluster/error.h"

namespace sluice::cluster {

std::string_view to_string(errc code) {
  switch (code) {
    case errc::invalid_topic_name:
      return "invalid_topic_name";
    case errc::topic_already_exists:
      return "topic_already_exists";
    case errc::unknown_topic:
      return "unknown_topic";
    case errc::unknown_topic_id:
      return "unknown_topic_id";
    case errc::invalid_partitions:
      return "invalid_partitions";
    case errc::invalid_replication_factor:
      return "invalid_replication_factor";
    case errc::invalid_replica_assignment:
      return "invalid_replica_assignment";
    case errc::invalid_config:
      return "invalid_config";
    case errc::invalid_request:
      return "invalid_request";
    case errc::topic_deletion_disabled:
      return "topic_deletion_disabled";
    case errc::log_io:
      return "log_io";
    case errc::log_corrupt:
      return "log_corrupt";
  }
  return "unknown";
}

}  // namespace sluice::cluster
