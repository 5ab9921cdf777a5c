// DeleteGroups: deletes empty groups with their committed offsets (tombstones in
// __consumer_offsets); NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND when unknown.

#include "protocol/messages/delete_groups.h"

#include "server/handlers/group_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

asio::awaitable<handler_outcome> delete_groups(request_context& ctx) {
  auto req = decode_request<protocol::delete_groups_request>(ctx);
  if (!req) co_return close_connection{"malformed DeleteGroups request: " + req.error().message};
  protocol::delete_groups_response resp;
  for (const auto& id : req->groups_names) {
    auto call = ctx.broker->groups->delete_group(id);
    coordinator::errc error = co_await std::move(call);
    protocol::delete_groups_response::deletable_group_result out;
    out.group_id = id;
    out.error_code = kafka_error(error);
    resp.results.push_back(std::move(out));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
