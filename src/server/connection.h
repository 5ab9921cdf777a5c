#pragma once

// One client connection, owned by the shard that accepted it and touched only on that shard's
// thread. A reader coroutine takes size-prefixed frames off the socket and starts a handler for
// each; a writer coroutine sends the responses in request order. Handlers of one connection run
// concurrently, but a handler must do its order-sensitive work (e.g. an append) before its first
// suspension point, so requests take effect in the order they arrived.
//
// Back-pressure: the reader stops reading while the requests in flight exceed
// sluice.connection.max.inflight.bytes or queued.max.requests (one request is always admitted),
// so a client that does not read its responses cannot make the broker buffer without bound.

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "server/broker_context.h"
#include "server/request.h"

namespace sluice::server {

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(asio::ip::tcp::socket socket, const broker_context& broker, std::string listener_name);

  // Runs until the peer closes, an invalid request arrives, or close() is called.
  asio::awaitable<void> run();
  // Closes the socket; run() then finishes once in-flight handlers have.
  void close();
  const std::string& peer() const { return _peer; }

 private:
  struct pending {
    std::optional<handler_outcome> outcome;
    int64_t frame_bytes = 0;
    int32_t correlation_id = 0;
    int16_t response_header_version = 0;
  };

  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> handle(std::shared_ptr<pending> slot, request_context ctx,
                               handler_fn handler);
  asio::awaitable<bool> send(pending& slot, protocol::encoded_message& body);
  asio::awaitable<std::error_code> send_file(const protocol::file_range& range);
  // Answers an ApiVersions request whose version we do not serve, as Kafka does.
  void answer_unsupported_api_versions(std::shared_ptr<pending> slot);
  void wake(asio::steady_timer& timer) { timer.cancel(); }
  void shut(const std::string& reason);

  asio::ip::tcp::socket _socket;
  const broker_context& _broker;
  std::string _listener_name;
  std::string _peer;
  std::deque<std::shared_ptr<pending>> _pending;
  int64_t _inflight_bytes = 0;
  int64_t _running_handlers = 0;
  bool _closed = false;
  asio::steady_timer::time_point _last_active;  // last request read or response written
  asio::steady_timer _reader_wakeup;
  asio::steady_timer _writer_wakeup;
};

}  // namespace sluice::server
