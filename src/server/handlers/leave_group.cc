// LeaveGroup: one member (v0-2) or several, dynamic or static (v3+, KIP-345), leave a group.

#include "protocol/messages/leave_group.h"

#include "server/handlers/group_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

asio::awaitable<handler_outcome> leave_group(request_context& ctx) {
  auto req = decode_request<protocol::leave_group_request>(ctx);
  if (!req) co_return close_connection{"malformed LeaveGroup request: " + req.error().message};
  std::vector<coordinator::member_identity> members;
  if (ctx.version() < 3) {
    members.push_back({req->member_id, std::nullopt});
  } else {
    for (const auto& m : req->members) members.push_back({m.member_id, m.group_instance_id});
  }
  auto call = ctx.broker->groups->leave(req->group_id, members);
  coordinator::leave_result out = co_await std::move(call);
  protocol::leave_group_response resp;
  resp.error_code = kafka_error(out.error);
  if (ctx.version() < 3) {
    if (out.error == coordinator::errc::none && !out.members.empty())
      resp.error_code = kafka_error(out.members[0]);
  } else if (out.error == coordinator::errc::none) {
    for (size_t i = 0; i < members.size() && i < out.members.size(); ++i) {
      protocol::leave_group_response::member_response m;
      m.member_id = members[i].member_id;
      m.group_instance_id = members[i].group_instance_id;
      m.error_code = kafka_error(out.members[i]);
      resp.members.push_back(std::move(m));
    }
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
