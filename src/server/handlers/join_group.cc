// JoinGroup: a member joins a classic group; the answer waits for the rebalance to complete
// (coordinator/group_manager.h). v4+ new members first get MEMBER_ID_REQUIRED (KIP-394).

#include "protocol/messages/join_group.h"

#include "server/handlers/group_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

asio::awaitable<handler_outcome> join_group(request_context& ctx) {
  auto req = decode_request<protocol::join_group_request>(ctx);
  if (!req) co_return close_connection{"malformed JoinGroup request: " + req.error().message};
  coordinator::join_request in;
  in.group_id = std::move(req->group_id);
  in.member_id = std::move(req->member_id);
  in.group_instance_id = std::move(req->group_instance_id);
  in.client_id = ctx.header.client_id.value_or("");
  in.client_host = client_host(ctx.client_address);
  in.session_timeout_ms = req->session_timeout_ms;
  in.rebalance_timeout_ms = ctx.version() >= 1 ? req->rebalance_timeout_ms : -1;
  in.protocol_type = std::move(req->protocol_type);
  for (auto& p : req->protocols) in.protocols.push_back({std::move(p.name), std::move(p.metadata)});
  in.require_known_member_id = ctx.version() >= 4;
  in.supports_skip_assignment = ctx.version() >= 9;
  auto call = ctx.broker->groups->join(std::move(in));
  coordinator::join_result out = co_await std::move(call);

  protocol::join_group_response resp;
  resp.error_code = kafka_error(out.error);
  resp.generation_id = out.generation;
  resp.member_id = out.member_id;
  if (out.error == coordinator::errc::none) {
    resp.protocol_type = out.protocol_type;
    resp.protocol_name =
        ctx.version() >= 7 ? out.protocol_name : std::optional(out.protocol_name.value_or(""));
    resp.leader = out.leader;
    resp.skip_assignment = out.skip_assignment;
    for (auto& m : out.members) {
      protocol::join_group_response::join_group_response_member rm;
      rm.member_id = std::move(m.member_id);
      rm.group_instance_id = std::move(m.group_instance_id);
      rm.metadata = std::move(m.metadata);
      resp.members.push_back(std::move(rm));
    }
  } else {
    // Kafka answers errors with an empty protocol name (null from v7) and no leader.
    if (ctx.version() >= 7) resp.protocol_name.reset();
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
