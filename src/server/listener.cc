#include "server/listener.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <future>

#include "base/logging.h"
#include "server/connection.h"

namespace sluice::server {

result<std::unique_ptr<listener>, std::string> listener::bind(
    const endpoint& ep, shard_set& shards, broker_context& broker,
    std::vector<shard_connections>& connections, int backlog) {
  std::error_code ec;
  asio::ip::address address;
  if (ep.host.empty()) {
    address = asio::ip::address_v6::any();
  } else {
    address = asio::ip::make_address(ep.host, ec);
    if (ec) {
      // A host name: resolve it and bind the first address.
      asio::ip::tcp::resolver resolver(shards.context(0));
      auto found = resolver.resolve(ep.host, std::to_string(ep.port), ec);
      if (ec || found.empty())
        return failure(fmt::format("cannot resolve listener host '{}': {}", ep.host,
                                   ec ? ec.message() : "no address"));
      address = found.begin()->endpoint().address();
    }
  }
  asio::ip::tcp::endpoint where(address, ep.port);
  asio::ip::tcp::acceptor acceptor(shards.context(0));
  acceptor.open(where.protocol(), ec);
  if (!ec && address.is_v6() && ep.host.empty()) acceptor.set_option(asio::ip::v6_only(false), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(where, ec);
  if (!ec) acceptor.listen(backlog, ec);
  if (ec) {
    return failure(fmt::format("cannot listen on {}://{}:{}: {}", ep.listener_name,
                               ep.host.empty() ? "0.0.0.0" : ep.host, ep.port, ec.message()));
  }
  endpoint bound = ep;
  bound.port = acceptor.local_endpoint().port();
  return std::unique_ptr<listener>(
      new listener(std::move(acceptor), std::move(bound), shards, broker, connections));
}

listener::listener(asio::ip::tcp::acceptor acceptor, endpoint bound, shard_set& shards,
                   broker_context& broker, std::vector<shard_connections>& connections)
    : _acceptor(std::move(acceptor)),
      _bound(std::move(bound)),
      _shards(shards),
      _broker(broker),
      _connections(connections),
      _room(shards.context(0)) {}

void listener::start() {
  asio::co_spawn(_shards.context(0), accept_loop(), asio::detached);
}

void listener::stop() {
  std::promise<void> closed;
  asio::post(_shards.context(0), [this, &closed] {
    std::error_code ignored;
    _acceptor.close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();
}

asio::awaitable<void> listener::accept_loop() {
  auto log = logger("server");
  for (;;) {
    std::error_code ec;
    // At max.connections Kafka stops accepting until a connection closes; new clients wait in
    // the listen backlog meanwhile.
    while (_acceptor.is_open() && _broker.open_connections.load() >= _broker.connections_max) {
      _room.expires_at(asio::steady_timer::time_point::max());
      co_await _room.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    auto socket = co_await _acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !_acceptor.is_open()) co_return;
    if (ec) {
      // Out of file descriptors and the like: the listener keeps going.
      log->warn("accept on {} failed: {}", _bound.listener_name, ec.message());
      continue;
    }
    std::string ip = socket.remote_endpoint(ec).address().to_string();
    if (ec) continue;  // the peer is already gone
    if (!admit(ip)) {
      log->warn("closing connection from {}: max.connections.per.ip ({}) reached", ip,
                _broker.connections_per_ip_max);
      continue;  // the socket closes as it goes out of scope
    }
    hand_off(std::move(socket));
  }
}

bool listener::admit(const std::string& ip) {
  std::lock_guard lock(_broker.per_ip_mutex);
  auto& count = _broker.connections_per_ip[ip];
  if (count >= _broker.connections_per_ip_max) {
    if (count == 0) _broker.connections_per_ip.erase(ip);
    return false;
  }
  ++count;
  return true;
}

void listener::release(const std::string& ip) {
  std::lock_guard lock(_broker.per_ip_mutex);
  auto it = _broker.connections_per_ip.find(ip);
  if (it != _broker.connections_per_ip.end() && --it->second <= 0)
    _broker.connections_per_ip.erase(it);
}

void listener::hand_off(asio::ip::tcp::socket socket) {
  unsigned shard = _next_shard++ % _shards.size();
  std::error_code ec;
  auto protocol = socket.local_endpoint(ec).protocol();
  std::string ip = socket.remote_endpoint(ec).address().to_string();
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  if (_broker.socket_send_buffer_bytes >= 0)
    socket.set_option(asio::socket_base::send_buffer_size(_broker.socket_send_buffer_bytes), ec);
  if (_broker.socket_receive_buffer_bytes >= 0)
    socket.set_option(asio::socket_base::receive_buffer_size(_broker.socket_receive_buffer_bytes),
                      ec);
  int fd = socket.release(ec);
  if (ec) {
    release(ip);
    return;
  }
  ++_broker.open_connections;
  asio::post(_shards.context(shard), [this, shard, fd, protocol, ip] {
    asio::ip::tcp::socket owned(_shards.context(shard), protocol, fd);
    auto conn = std::make_shared<connection>(std::move(owned), _broker, _bound.listener_name);
    auto& mine = _connections[shard];
    mine.open.push_back(conn);
    logger("server")->debug("connection from {} on shard {}", conn->peer(), shard);
    asio::co_spawn(_shards.context(shard), conn->run(),
                   [this, conn, shard, ip](std::exception_ptr) {
                     auto& open = _connections[shard].open;
                     std::erase_if(open, [&](const std::weak_ptr<connection>& w) {
                       auto p = w.lock();
                       return !p || p == conn;
                     });
                     release(ip);
                     --_broker.open_connections;
                     if (_broker.on_connection_closed) _broker.on_connection_closed();
                   });
  });
}

}  // namespace sluice::server
