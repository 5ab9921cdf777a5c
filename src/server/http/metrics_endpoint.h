#pragma once

// The HTTP listener of `sluice.metrics.listener`: GET (or HEAD) /metrics answers the page that
// `page` builds; any other path is 404, any other method 405. It runs on one thread of its own,
// never on a shard, and serves one connection at a time (each closed after its answer, with
// 5 s read and write timeouts): scrapes are rare and small, and this bounds the endpoint to one
// thread and one socket whatever clients do. cpp-httplib does the HTTP.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "base/result.h"

namespace httplib {
class Server;
}

namespace sluice::server::metrics {

struct http_address {
  std::string host;  // a name, an IPv4 address or an IPv6 address (without brackets)
  uint16_t port = 0;
};

// Parses `sluice.metrics.listener`: "host:port" ("[v6]:port" for IPv6); empty disables the
// endpoint (std::nullopt). Port 0 asks for any free port. An error message names the value.
result<std::optional<http_address>, std::string> parse_listener(const std::string& text);

class metrics_endpoint {
 public:
  using page_fn = std::function<std::string()>;

  // Binds the address (a bind error is returned, naming the address and the reason); the
  // endpoint answers once start() ran. `page` is called on the endpoint's thread.
  static result<std::unique_ptr<metrics_endpoint>, std::string> bind(const http_address& address,
                                                                     page_fn page);
  ~metrics_endpoint();

  // The address as bound (the real port when 0 was asked for).
  const http_address& bound() const { return _bound; }
  void start();
  // Closes the listening socket and waits for the thread; idempotent.
  void stop();

 private:
  metrics_endpoint(http_address bound, std::unique_ptr<httplib::Server> server);

  http_address _bound;
  std::unique_ptr<httplib::Server> _server;
  std::thread _thread;
  std::atomic<bool> _exited{false};  // listen_after_bind returned
};

}  // namespace sluice::server::metrics
