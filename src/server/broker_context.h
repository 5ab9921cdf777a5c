#pragma once

// The broker-wide state handlers read. Built before the shards start and immutable while they
// run, so every shard may read it without locks. Topics come from the metadata image
// (`images->current()`); changes go to the controller through on_controller()
// (server/controller_thread.h).

#include <asio/io_context.hpp>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/controller.h"
#include "cluster/image_publisher.h"
#include "config/broker_config.h"
#include "coordinator/group_coordinator.h"
#include "server/api_registry.h"
#include "server/endpoint.h"

namespace sluice::server {

class partition_registry;
class fetch_sessions;

struct broker_context {
  const config::broker_config* config = nullptr;
  int32_t node_id = 0;
  std::string cluster_id;
  std::string rack;  // empty: none
  // Published endpoint for each listener name (advertised.listeners, else the bound listener).
  std::map<std::string, endpoint> advertised;
  api_registry registry;

  // The current metadata image; any shard may read it.
  const cluster::image_publisher* images = nullptr;
  // The controller, to be called only on its own thread: on_controller(controller_executor,
  // controller, fn).
  cluster::controller* controller = nullptr;
  std::optional<asio::io_context::executor_type> controller_executor;
  // Run on the controller's thread after every controller call a handler makes
  // (handlers::call_controller): brings the partition logs in line with the new image.
  std::function<void()> after_controller_write;

  // Owner shards of the data partitions and their logs (server/partition_registry.h).
  partition_registry* partitions = nullptr;
  // The group coordinator (coordinator/group_coordinator.h); any shard may call it.
  coordinator::group_coordinator* groups = nullptr;
  // The fetch session caches, one per shard (server/fetch_session.h).
  fetch_sessions* fetch_session_caches = nullptr;

  // Limits, read from the config once.
  int64_t request_bytes_max = 0;                 // socket.request.max.bytes
  int64_t connection_inflight_bytes_max = 0;     // sluice.connection.max.inflight.bytes
  int64_t connection_inflight_requests_max = 0;  // queued.max.requests
  int64_t connections_max = 0;                   // max.connections
  int64_t connections_per_ip_max = 0;            // max.connections.per.ip
  int64_t idle_ms_max = 0;                       // connections.max.idle.ms

  int32_t socket_send_buffer_bytes = -1;     // socket.send.buffer.bytes; -1: OS default
  int32_t socket_receive_buffer_bytes = -1;  // socket.receive.buffer.bytes; -1: OS default

  // Connection accounting, changed on accept (shard 0) and on close (any shard).
  std::atomic<int64_t> open_connections{0};
  std::mutex per_ip_mutex;
  std::unordered_map<std::string, int64_t> connections_per_ip;  // guarded by per_ip_mutex
  // Called on the closing connection's shard after the counts are updated; wakes acceptors
  // that wait for room under max.connections.
  std::function<void()> on_connection_closed;
};

}  // namespace sluice::server
