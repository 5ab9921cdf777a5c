#pragma once

// Accepts connections on one endpoint. The acceptor lives on shard 0; each accepted socket is
// handed to the next shard in turn, which owns the connection from then on.

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "server/broker_context.h"
#include "server/endpoint.h"
#include "server/shard.h"

namespace sluice::server {

class connection;

// The connections a shard owns, so that shutdown can close them. Touched only on that shard.
struct shard_connections {
  std::vector<std::weak_ptr<connection>> open;
  size_t finished = 0;  // connections whose run() has returned
};

class listener {
 public:
  // Binds and listens; fails with a clear message for a bad host or an occupied port.
  static result<std::unique_ptr<listener>, std::string> bind(
      const endpoint& ep, shard_set& shards, broker_context& broker,
      std::vector<shard_connections>& connections, int backlog);

  // The endpoint as bound: the real port when the configured one was 0.
  const endpoint& bound() const { return _bound; }
  void start();
  // Stops accepting; posts to shard 0 and waits until the acceptor is closed.
  void stop();
  // A connection closed somewhere: an acceptor waiting under max.connections may go on.
  // Called on shard 0.
  void room_for_connection() { _room.cancel(); }

 private:
  listener(asio::ip::tcp::acceptor acceptor, endpoint bound, shard_set& shards,
           broker_context& broker, std::vector<shard_connections>& connections);
  asio::awaitable<void> accept_loop();
  void hand_off(asio::ip::tcp::socket socket);
  // Counts the connection against max.connections.per.ip; false when over the limit.
  bool admit(const std::string& ip);
  void release(const std::string& ip);

  asio::ip::tcp::acceptor _acceptor;
  endpoint _bound;
  shard_set& _shards;
  broker_context& _broker;
  std::vector<shard_connections>& _connections;
  unsigned _next_shard = 0;
  asio::steady_timer _room;  // cancelled when a connection closes
};

}  // namespace sluice::server
