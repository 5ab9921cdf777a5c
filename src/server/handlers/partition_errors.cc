#include "server/handlers/partition_errors.h"

namespace sluice::server::handlers {

protocol::error_code kafka_error(partition_errc code) {
  using protocol::error_code;
  switch (code) {
    case partition_errc::not_hosted:
      return error_code::not_leader_or_follower;
    case partition_errc::corrupt_message:
      return error_code::corrupt_message;
    case partition_errc::invalid_record:
      return error_code::invalid_record;
    case partition_errc::unsupported_format:
      return error_code::unsupported_for_message_format;
    case partition_errc::message_too_large:
      return error_code::message_too_large;
    case partition_errc::unsupported_compression:
      return error_code::unsupported_compression_type;
    case partition_errc::out_of_order_sequence:
      return error_code::out_of_order_sequence_number;
    case partition_errc::invalid_producer_epoch:
      return error_code::invalid_producer_epoch;
    case partition_errc::offset_out_of_range:
      return error_code::offset_out_of_range;
    case partition_errc::policy_violation:
      return error_code::policy_violation;
    case partition_errc::storage_error:
      return error_code::kafka_storage_error;
  }
  return error_code::unknown_server_error;
}

}  // namespace sluice::server::handlers
