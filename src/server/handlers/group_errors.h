#pragma once

// Where the group coordinator's error codes become Kafka's, and the creation of
// __consumer_offsets on first use (FindCoordinator), shared by the group handlers.

#include <asio/awaitable.hpp>
#include <string>

#include "coordinator/error.h"
#include "protocol/errors.h"
#include "server/broker_context.h"
#include "server/request.h"

namespace sluice::server::handlers {

int16_t kafka_error(coordinator::errc code);

// "/ip" from "ip:port", as Kafka reports a member's client host.
std::string client_host(const std::string& client_address);

// Creates __consumer_offsets through the controller when it does not exist (internal,
// compacted, offsets.topic.num.partitions and offsets.topic.segment.bytes). True when the topic
// exists afterwards.
asio::awaitable<bool> ensure_offsets_topic(const broker_context& broker);

// OffsetCommit v0 and OffsetFetch v0 are Kafka 0.8.1's, from before group coordinators: its
// clients send them to any broker without the coordinator lookup that creates
// __consumer_offsets (FindCoordinator), so these versions create it themselves.
asio::awaitable<void> ensure_offsets_topic_for_v0(const request_context& ctx);

}  // namespace sluice::server::handlers
