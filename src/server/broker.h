#pragma once

// The broker service: data directories, shards and listeners, started and stopped as one.
// start() logs one line per lifecycle step; stop() closes the listeners, then the connections,
// then the shards, and releases the data directories.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/broker_config.h"
#include "server/broker_context.h"
#include "server/data_dirs.h"
#include "server/listener.h"
#include "server/shard.h"

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

  const config::broker_config& _config;
  data_dirs _dirs;
  broker_context _context;
  shard_set _shards;
  std::vector<shard_connections> _connections;
  std::vector<std::unique_ptr<listener>> _listeners;
  bool _running = false;  // the shards were started
  bool _stopped = false;
};

}  // namespace sluice::server
