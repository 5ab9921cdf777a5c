#pragma once

// What a handler sees of one request, and what it hands back.

#include <asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/logging.h"
#include "protocol/header.h"
#include "protocol/wire.h"

namespace sluice::server {

struct broker_context;

struct request_context {
  // The whole request frame (header and body). Record bytes decoded from the body are views into
  // it, so it lives until the handler has finished.
  std::shared_ptr<const std::vector<uint8_t>> frame;
  protocol::request_header header;
  std::span<const uint8_t> body;  // into *frame
  std::string client_address;     // "ip:port" of the peer, for log lines
  std::string listener_name;      // listener the request arrived on
  const broker_context* broker = nullptr;

  int16_t version() const { return header.api_version; }
};

// A handler answers with a response body, with nothing (Produce with acks=0), or by asking for
// the connection to be closed (a request Kafka would treat as invalid).
struct no_response {};
struct close_connection {
  std::string reason;
};
using handler_outcome = std::variant<protocol::encoded_message, no_response, close_connection>;

using handler_fn = asio::awaitable<handler_outcome> (*)(request_context& ctx);

// Encodes `msg` at the request's version, or asks to close the connection when it cannot be
// encoded (a bug in the handler, logged as such).
template <typename Message>
handler_outcome respond(const request_context& ctx, const Message& msg) {
  protocol::writer w;
  auto encoded = msg.encode(w, ctx.version());
  if (!encoded) {
    logger("server")->error("cannot encode api {} v{} response for {}: {}", ctx.header.api_key,
                            ctx.version(), ctx.client_address, encoded.error().message);
    return close_connection{"response encoding failed"};
  }
  return std::move(w).finish();
}

// Decodes the request body as `Message` at the request's version; a body that does not decode,
// or has bytes left over, is malformed.
template <typename Message>
result<Message, protocol::codec_error> decode_request(const request_context& ctx) {
  protocol::reader r(ctx.body);
  Message msg;
  auto decoded = msg.decode(r, ctx.version());
  if (!decoded) return failure(decoded.error());
  return msg;
}

}  // namespace sluice::server
