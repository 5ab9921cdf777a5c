#pragma once

// What a per-partition operation (partition_ops, offset_ops) can fail with. Handlers turn these
// into Kafka error codes in one place, handlers/partition_errors.h.

#include <string>

namespace sluice::server {

enum class partition_errc {
  not_hosted,               // in the image but no log here (yet): retriable
  corrupt_message,          // lengths or CRC
  invalid_record,           // records that do not parse, bad counts or offsets deltas
  unsupported_format,       // a batch of magic 0 or 1
  message_too_large,        // a batch larger than max.message.bytes
  unsupported_compression,  // zstd before Produce v7
  out_of_order_sequence,    // an idempotent producer skipped sequence numbers
  invalid_producer_epoch,   // an idempotent producer's epoch is older than its current one
  offset_out_of_range,      // a read or DeleteRecords outside the log
  policy_violation,         // DeleteRecords on a topic whose cleanup.policy lacks "delete"
  storage_error,            // I/O failure, failed log
};

struct partition_error {
  partition_errc code;
  std::string message;
};

}  // namespace sluice::server
