// DescribeGroups: state, protocol and members of classic groups. The chosen protocol and the
// members' metadata and assignments are given once the group is Stable, as Kafka does. An
// unknown group is answered as Kafka does: state Dead with no error before v6,
// GROUP_ID_NOT_FOUND from v6.

#include "protocol/messages/describe_groups.h"

#include "server/handlers/group_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

asio::awaitable<handler_outcome> describe_groups(request_context& ctx) {
  using response = protocol::describe_groups_response;
  auto req = decode_request<protocol::describe_groups_request>(ctx);
  if (!req) co_return close_connection{"malformed DescribeGroups request: " + req.error().message};
  response resp;
  for (const auto& id : req->groups) {
    auto call = ctx.broker->groups->describe(id);
    auto [error, d] = co_await std::move(call);
    response::described_group out;
    out.group_id = id;
    out.error_code = kafka_error(error);
    if (error == coordinator::errc::none && id.empty()) {
      out.error_code = kafka_error(coordinator::errc::invalid_group_id);
    } else if (error == coordinator::errc::none) {
      out.group_state = std::string(coordinator::to_string(d.state));
      if (!d.found && ctx.version() >= 6) {
        out.error_code = static_cast<int16_t>(protocol::error_code::group_id_not_found);
        out.error_message = fmt::format("Group {} not found.", id);
      }
      out.protocol_type = d.protocol_type;
      out.protocol_data = d.protocol;
      for (auto& m : d.members) {
        response::described_group_member rm;
        rm.member_id = std::move(m.member_id);
        rm.group_instance_id = std::move(m.group_instance_id);
        rm.client_id = std::move(m.client_id);
        rm.client_host = std::move(m.client_host);
        rm.member_metadata = std::move(m.metadata);
        rm.member_assignment = std::move(m.assignment);
        out.members.push_back(std::move(rm));
      }
    }
    // Without an authorizer every operation a group supports is allowed: READ (3), DELETE (6)
    // and DESCRIBE (8), as bits of Kafka's AclOperation codes.
    if (req->include_authorized_operations)
      out.authorized_operations = (1 << 3) | (1 << 6) | (1 << 8);
    resp.groups.push_back(std::move(out));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
