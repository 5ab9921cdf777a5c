#pragma once

// Shard per core (ARCHITECTURE decision 4): each shard is one thread running one asio
// io_context. Everything a shard owns (connections now; partitions and groups later) is touched
// only from that thread; other shards reach it by posting work to its executor.

#include <asio/io_context.hpp>
#include <memory>
#include <thread>
#include <vector>

namespace sluice::server {

class shard_set {
 public:
  explicit shard_set(unsigned count);
  ~shard_set();
  shard_set(const shard_set&) = delete;
  shard_set& operator=(const shard_set&) = delete;

  unsigned size() const { return static_cast<unsigned>(_shards.size()); }
  asio::io_context& context(unsigned shard) { return *_shards[shard]->io; }

  // Runs every shard on its own thread. Returns at once.
  void start();
  // Stops the event loops and joins the threads. Work still queued is dropped; callers close
  // their services (acceptors, connections) before calling this.
  void stop();

 private:
  struct shard {
    std::unique_ptr<asio::io_context> io;
    std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread thread;
  };
  std::vector<std::unique_ptr<shard>> _shards;
};

}  // namespace sluice::server
