#pragma once

// Where the group coordinator's error codes become Kafka's, and the creation of
// __consumer_offsets on first use (FindCoordinator), shared by the group handlers.

#include <asio/awaitable.hpp>
#include <string>

#include "coordinator/error.h"
#include "protocol/errors.h"
#include "server/broker_context.h"

namespace sluice::server::handlers {

int16_t kafka_error(coordinator::errc code);

// "/ip" from "ip:port", as Kafka reports a member's client host.
std::string client_host(const std::string& client_address);

// Creates __consumer_offsets through the controller when it does not exist (internal,
// compacted, offsets.topic.num.partitions and offsets.topic.segment.bytes). True when the topic
// exists afterwards.
asio::awaitable<bool> ensure_offsets_topic(const broker_context& broker);

}  // namespace sluice::server::handlers
