#pragma once

// The broker service: data directories, the metadata log and its controller, shards and
// listeners, started and stopped as one. start() logs one line per lifecycle step; stop() closes
// the listeners, then the connections, then the controller's thread and the shards, and
// releases the data directories.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cluster/controller.h"
#include "cluster/file_metadata_log.h"
#include "cluster/image_publisher.h"
#include "config/broker_config.h"
#include "server/broker_context.h"
#include "server/controller_thread.h"
#include "server/data_dirs.h"
#include "server/fetch_session.h"
#include "server/group_host.h"
#include "server/http/counters.h"
#include "server/http/metrics_endpoint.h"
#include "server/listener.h"
#include "server/partition_registry.h"
#include "server/shard.h"
#include "storage/log_manager.h"

namespace sluice::server {

class broker {
 public:
  static result<std::unique_ptr<broker>, std::string> start(const config::broker_config& config);
  ~broker();
  void stop();

  // The endpoints as bound (with real ports when the configured port was 0).
  std::vector<endpoint> bound_endpoints() const;

 private:
  broker(const config::broker_config& config, data_dirs dirs, unsigned shard_count);
  void close_connections();
  result<void, std::string> start_controller();
  result<void, std::string> start_partitions();
  void stop_partitions();
  std::string metrics_page();
  std::optional<uint64_t> group_count();

  const config::broker_config& _config;
  data_dirs _dirs;
  // The metadata log, the image published from it and the controller that writes both; the
  // controller is called only on _controller_thread.
  std::unique_ptr<cluster::file_metadata_log> _metadata_log;
  cluster::image_publisher _images;
  std::unique_ptr<cluster::controller> _controller;
  controller_thread _controller_thread;
  // Every data partition's log (not the metadata log's), and which shard owns each. Control
  // calls into _logs run on the broker's thread at start and stop, on the controller's between.
  std::unique_ptr<storage::log_manager> _logs;
  // Group commit: fdatasync for every log runs on this thread, never on a shard.
  storage::flusher _flusher;
  std::unique_ptr<partition_registry> _partitions;
  // The group coordinator over __consumer_offsets; stopped before the connections close.
  std::unique_ptr<group_host> _group_host;
  std::unique_ptr<coordinator::group_coordinator> _groups;
  // Fetch sessions, one cache per shard; destroyed after the shards stopped.
  std::unique_ptr<fetch_sessions> _fetch_sessions;
  broker_context _context;
  // Each shard's counters (server/http/counters.h), bound to the shard threads before they run;
  // the metrics endpoint (null when sluice.metrics.listener is empty) sums them at each scrape.
  std::unique_ptr<metrics::shard_counter_set> _counters;
  std::unique_ptr<metrics::metrics_endpoint> _metrics;
  shard_set _shards;
  std::vector<shard_connections> _connections;
  std::vector<std::unique_ptr<listener>> _listeners;
  bool _running = false;  // the shards were started
  bool _stopped = false;
};

}  // namespace sluice::server
