#include "server/connection.h"

#include <sys/sendfile.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "base/assert.h"
#include "protocol/api.h"
#include "protocol/messages/api_versions.h"
#include "server/handlers/handlers.h"
#include "server/http/counters.h"

namespace sluice::server {

namespace {

constexpr int16_t api_versions_key = 18;
// api key (2) + api version (2) + correlation id (4): common to every request header version.
constexpr int32_t request_header_prefix_bytes = 8;

int32_t read_be32(const uint8_t* p) {
  return static_cast<int32_t>((uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) |
                              (uint32_t(p[2]) << 8) | uint32_t(p[3]));
}
int16_t read_be16(const uint8_t* p) {
  return static_cast<int16_t>((p[0] << 8) | p[1]);
}
void write_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

std::string peer_of(const asio::ip::tcp::socket& s) {
  std::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "unknown peer";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

connection::connection(asio::ip::tcp::socket socket, const broker_context& broker,
                       std::string listener_name)
    : _socket(std::move(socket)),
      _broker(broker),
      _listener_name(std::move(listener_name)),
      _peer(peer_of(_socket)),
      _last_active(asio::steady_timer::clock_type::now()),
      _reader_wakeup(_socket.get_executor(), asio::steady_timer::time_point::max()),
      _writer_wakeup(_socket.get_executor(), asio::steady_timer::time_point::max()) {}

void connection::close() {
  shut("broker shutting down");
}

void connection::shut(const std::string& reason) {
  if (_closed) return;
  _closed = true;
  logger("server")->debug("closing connection from {}: {}", _peer, reason);
  std::error_code ignored;
  _socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  _socket.close(ignored);
  wake(_reader_wakeup);
  wake(_writer_wakeup);
}

asio::awaitable<void> connection::run() {
  auto self = shared_from_this();
  std::error_code ec;
  // Writer runs beside the reader on this shard; run() ends when both loops and every handler
  // they started have finished.
  bool writer_done = false;
  asio::co_spawn(
      _socket.get_executor(),
      [self, &writer_done]() -> asio::awaitable<void> {
        co_await self->write_loop();
        writer_done = true;
        self->wake(self->_reader_wakeup);
      },
      asio::detached);
  co_await read_loop();
  while (!writer_done || _running_handlers > 0) {
    _reader_wakeup.expires_at(asio::steady_timer::time_point::max());
    co_await _reader_wakeup.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> connection::read_loop() {
  std::error_code ec;
  auto log = logger("server");
  while (!_closed) {
    // Back-pressure: wait while this connection has too much in flight.
    while (!_closed && !_pending.empty() &&
           (_inflight_bytes >= _broker.connection_inflight_bytes_max ||
            static_cast<int64_t>(_pending.size()) >= _broker.connection_inflight_requests_max)) {
      _reader_wakeup.expires_at(asio::steady_timer::time_point::max());
      co_await _reader_wakeup.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (_closed) break;

    std::array<uint8_t, 4> size_bytes;
    co_await asio::async_read(_socket, asio::buffer(size_bytes),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      shut(ec == asio::error::eof ? "peer closed the connection" : ec.message());
      break;
    }
    int32_t size = read_be32(size_bytes.data());
    if (size < request_header_prefix_bytes || size > _broker.request_bytes_max) {
      log->warn(
          "closing connection from {}: request size {} is outside [{}, {}] "
          "(socket.request.max.bytes)",
          _peer, size, request_header_prefix_bytes, _broker.request_bytes_max);
      shut("bad request size");
      break;
    }
    auto frame = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(size));
    co_await asio::async_read(_socket, asio::buffer(*frame),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      shut("connection lost in the middle of a request");
      break;
    }

    _last_active = asio::steady_timer::clock_type::now();
    auto slot = std::make_shared<pending>();
    slot->frame_bytes = size;
    int16_t key = read_be16(frame->data());
    int16_t version = read_be16(frame->data() + 2);
    slot->correlation_id = read_be32(frame->data() + 4);

    const api_entry* entry = _broker.registry.find(key);
    if (entry == nullptr) {
      log->warn("closing connection from {}: unknown API key {}", _peer, key);
      shut("unknown api key");
      break;
    }
    if (version < entry->min_version || version > entry->max_version) {
      if (key == api_versions_key) {
        answer_unsupported_api_versions(slot);
        continue;
      }
      log->warn("closing connection from {}: {} version {} is not supported (versions {}-{})",
                _peer, entry->name, version, entry->min_version, entry->max_version);
      shut("unsupported version");
      break;
    }
    metrics::count_request(key, version);

    protocol::reader r{std::span<const uint8_t>(*frame)};
    protocol::request_header header;
    auto decoded = header.decode(r, protocol::request_header_version(key, version));
    if (!decoded) {
      log->warn("closing connection from {}: malformed {} v{} request header: {}", _peer,
                entry->name, version, decoded.error().message);
      shut("malformed request header");
      break;
    }
    request_context ctx{
        frame, std::move(header), std::span<const uint8_t>(*frame).subspan(r.offset()),
        _peer, _listener_name,    &_broker};
    slot->response_header_version = protocol::response_header_version(key, version);
    _pending.push_back(slot);
    _inflight_bytes += size;
    ++_running_handlers;
    // Tracked by _running_handlers: run() does not finish before this handler does.
    asio::co_spawn(_socket.get_executor(), handle(slot, std::move(ctx), entry->handler),
                   asio::detached);
  }
}

void connection::answer_unsupported_api_versions(std::shared_ptr<pending> slot) {
  // Kafka answers an ApiVersions request of a version it does not know at version 0, with
  // UNSUPPORTED_VERSION and the versions of ApiVersions it serves, so that the client can retry
  // with one of them.
  protocol::writer w;
  auto body = handlers::api_versions_body(_broker, protocol::error_code::unsupported_version);
  std::erase_if(body.api_keys, [](const auto& api) { return api.api_key != api_versions_key; });
  auto encoded = body.encode(w, 0);
  SLUICE_ASSERT(encoded.has_value(), "ApiVersions v0 must always encode");
  slot->outcome = std::move(w).finish();
  slot->response_header_version = 0;
  _pending.push_back(std::move(slot));
  _inflight_bytes += _pending.back()->frame_bytes;
  wake(_writer_wakeup);
}

asio::awaitable<void> connection::handle(std::shared_ptr<pending> slot, request_context ctx,
                                         handler_fn handler) {
  auto self = shared_from_this();
  handler_outcome outcome = no_response{};
  try {
    outcome = co_await handler(ctx);
  } catch (const std::exception& e) {
    logger("server")->error("handler of api {} failed for {}: {}", ctx.header.api_key, _peer,
                            e.what());
    outcome = close_connection{"handler failed"};
  }
  slot->outcome = std::move(outcome);
  --_running_handlers;
  wake(_writer_wakeup);
  wake(_reader_wakeup);
}

asio::awaitable<void> connection::write_loop() {
  std::error_code ec;
  while (!_closed) {
    if (_pending.empty() || !_pending.front()->outcome) {
      // With nothing in flight the wait doubles as the idle timer (connections.max.idle.ms).
      bool idle_wait = _pending.empty();
      _writer_wakeup.expires_at(idle_wait
                                    ? _last_active + std::chrono::milliseconds(_broker.idle_ms_max)
                                    : asio::steady_timer::time_point::max());
      co_await _writer_wakeup.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!ec && idle_wait && _pending.empty() && !_closed) {
        logger("server")->info(
            "closing connection from {}: idle for more than {} ms "
            "(connections.max.idle.ms)",
            _peer, _broker.idle_ms_max);
        shut("idle");
      }
      continue;
    }
    auto slot = std::move(_pending.front());
    _pending.pop_front();
    auto& outcome = *slot->outcome;
    if (auto* body = std::get_if<protocol::encoded_message>(&outcome)) {
      if (!co_await send(*slot, *body)) break;
    } else if (auto* close = std::get_if<close_connection>(&outcome)) {
      logger("server")->warn("closing connection from {}: {}", _peer, close->reason);
      shut(close->reason);
      break;
    }
    _inflight_bytes -= slot->frame_bytes;
    _last_active = asio::steady_timer::clock_type::now();
    wake(_reader_wakeup);
  }
}

asio::awaitable<bool> connection::send(pending& slot, protocol::encoded_message& body) {
  // Frame: size, response header (correlation id, plus an empty tagged-field section in v1),
  // then the body: its own bytes with the record bytes spliced in, which are memory views
  // (gathered into one write) or file ranges (sent with sendfile(2), never copied).
  std::array<uint8_t, 9> head{};
  size_t head_bytes = slot.response_header_version >= 1 ? 9 : 8;
  write_be32(head.data(), static_cast<uint32_t>(head_bytes - 4 + body.total_size()));
  write_be32(head.data() + 4, static_cast<uint32_t>(slot.correlation_id));

  std::error_code ec;
  std::vector<asio::const_buffer> gathered{asio::buffer(head.data(), head_bytes)};
  size_t cursor = 0;
  auto take_bytes = [&](size_t up_to) {
    if (up_to > cursor)
      gathered.push_back(asio::buffer(body.bytes.data() + cursor, up_to - cursor));
    cursor = up_to;
  };
  for (const auto& chunk : body.externals) {
    take_bytes(chunk.offset);
    if (const auto* memory = std::get_if<protocol::memory_range>(&chunk.source)) {
      gathered.push_back(asio::buffer(memory->data.data(), memory->data.size()));
      continue;
    }
    co_await asio::async_write(_socket, gathered, asio::redirect_error(asio::use_awaitable, ec));
    gathered.clear();
    if (!ec) ec = co_await send_file(std::get<protocol::file_range>(chunk.source));
    if (ec) break;
  }
  if (!ec) {
    take_bytes(body.bytes.size());
    co_await asio::async_write(_socket, gathered, asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    shut("write failed: " + ec.message());
    co_return false;
  }
  co_return true;
}

asio::awaitable<std::error_code> connection::send_file(const protocol::file_range& range) {
  // sendfile(2) on the non-blocking socket, waiting for writability when its buffer is full.
  std::error_code ec;
  off_t position = range.position;
  int64_t left = range.length;
  _socket.native_non_blocking(true, ec);
  while (!ec && left > 0) {
    ssize_t sent =
        ::sendfile(_socket.native_handle(), range.fd, &position, static_cast<size_t>(left));
    if (sent > 0) {
      left -= sent;
    } else if (sent < 0 && (errno == EAGAIN || errno == EINTR)) {
      co_await _socket.async_wait(asio::ip::tcp::socket::wait_write,
                                  asio::redirect_error(asio::use_awaitable, ec));
    } else {
      // 0 bytes: the file is shorter than the range (truncated under us).
      ec = std::error_code(sent == 0 ? EIO : errno, std::system_category());
    }
  }
  co_return ec;
}

}  // namespace sluice::server
