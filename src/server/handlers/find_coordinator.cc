// FindCoordinator: the broker that coordinates a group (key type 0) or a transactional id
// (key type 1). On a single node that is this broker, once __consumer_offsets exists; the
// first lookup creates it through the controller. No transaction coordinator exists yet, so
// transactional ids are answered COORDINATOR_NOT_AVAILABLE, as Kafka answers while it has none.
// v4+ looks up several keys in one request.

#include "protocol/messages/find_coordinator.h"

#include "server/handlers/group_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::find_coordinator_response;

constexpr int8_t group_key_type = 0;
constexpr int8_t transaction_key_type = 1;

struct answer {
  protocol::error_code error = protocol::error_code::none;
  std::string message;
};

asio::awaitable<answer> look_up(const request_context& ctx, int8_t key_type,
                                const std::string& key) {
  if (key_type == transaction_key_type)
    co_return answer{protocol::error_code::coordinator_not_available,
                     "Sluice has no transaction coordinator yet"};
  if (key_type != group_key_type)
    co_return answer{protocol::error_code::invalid_request,
                     fmt::format("unsupported coordinator key type {}", key_type)};
  if (key.empty()) co_return answer{protocol::error_code::invalid_request, "the group id is empty"};
  auto ensure = ensure_offsets_topic(*ctx.broker);
  if (!(co_await std::move(ensure)))
    co_return answer{protocol::error_code::coordinator_not_available,
                     "__consumer_offsets could not be created"};
  co_return answer{};
}

}  // namespace

asio::awaitable<handler_outcome> find_coordinator(request_context& ctx) {
  auto req = decode_request<protocol::find_coordinator_request>(ctx);
  if (!req) co_return close_connection{"malformed FindCoordinator request: " + req.error().message};
  const broker_context& broker = *ctx.broker;
  auto advertised = broker.advertised.find(ctx.listener_name);
  std::string host;
  int32_t port = -1;
  if (advertised != broker.advertised.end()) {
    host = advertised->second.host;
    port = advertised->second.port;
  }
  response resp;
  if (ctx.version() < 4) {
    auto call = look_up(ctx, req->key_type, req->key);
    answer a = co_await std::move(call);
    resp.error_code = static_cast<int16_t>(a.error);
    if (a.error == protocol::error_code::none) {
      resp.node_id = broker.node_id;
      resp.host = host;
      resp.port = port;
      resp.error_message.reset();
    } else {
      resp.node_id = -1;
      resp.port = -1;
      resp.error_message = a.message;
    }
    co_return respond(ctx, resp);
  }
  for (const auto& key : req->coordinator_keys) {
    auto call = look_up(ctx, req->key_type, key);
    answer a = co_await std::move(call);
    response::coordinator c;
    c.key = key;
    c.error_code = static_cast<int16_t>(a.error);
    if (a.error == protocol::error_code::none) {
      c.node_id = broker.node_id;
      c.host = host;
      c.port = port;
      c.error_message.reset();
    } else {
      c.node_id = -1;
      c.port = -1;
      c.error_message = a.message;
    }
    resp.coordinators.push_back(std::move(c));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
