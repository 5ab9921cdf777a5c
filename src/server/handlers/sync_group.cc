// SyncGroup: the leader hands in the assignment; every member waits for its share.

#include "protocol/messages/sync_group.h"

#include "server/handlers/group_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

asio::awaitable<handler_outcome> sync_group(request_context& ctx) {
  auto req = decode_request<protocol::sync_group_request>(ctx);
  if (!req) co_return close_connection{"malformed SyncGroup request: " + req.error().message};
  coordinator::sync_request in;
  in.group_id = std::move(req->group_id);
  in.generation = req->generation_id;
  in.member_id = std::move(req->member_id);
  in.group_instance_id = std::move(req->group_instance_id);
  if (ctx.version() >= 5) {
    in.protocol_type = std::move(req->protocol_type);
    in.protocol_name = std::move(req->protocol_name);
  }
  for (auto& a : req->assignments)
    in.assignments.emplace_back(std::move(a.member_id), std::move(a.assignment));
  auto call = ctx.broker->groups->sync(std::move(in));
  coordinator::sync_result out = co_await std::move(call);
  protocol::sync_group_response resp;
  resp.error_code = kafka_error(out.error);
  if (out.error == coordinator::errc::none) {
    resp.protocol_type = out.protocol_type;
    resp.protocol_name = out.protocol_name;
    resp.assignment = std::move(out.assignment);
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
