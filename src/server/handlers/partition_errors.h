#pragma once

// The handler boundary of partition operations (ARCHITECTURE decision 7): partition_errc becomes
// Kafka's error code here and nowhere else.

#include "protocol/errors.h"
#include "server/partition_error.h"

namespace sluice::server::handlers {

protocol::error_code kafka_error(partition_errc code);

}  // namespace sluice::server::handlers
