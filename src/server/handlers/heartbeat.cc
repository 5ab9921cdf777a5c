// Heartbeat: keeps a member's session; REBALANCE_IN_PROGRESS tells it to rejoin.

#include "protocol/messages/heartbeat.h"

#include "server/handlers/group_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

asio::awaitable<handler_outcome> heartbeat(request_context& ctx) {
  auto req = decode_request<protocol::heartbeat_request>(ctx);
  if (!req) co_return close_connection{"malformed Heartbeat request: " + req.error().message};
  auto call =
      ctx.broker->groups->heartbeat(std::move(req->group_id), req->generation_id,
                                    std::move(req->member_id), std::move(req->group_instance_id));
  coordinator::errc out = co_await std::move(call);
  protocol::heartbeat_response resp;
  resp.error_code = kafka_error(out);
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
