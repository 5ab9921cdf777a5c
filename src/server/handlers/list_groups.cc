// ListGroups: every group this broker coordinates, filtered by state (v4+, case-insensitive,
// Kafka's state names) and by type (v5+; every group here is "classic").

#include "protocol/messages/list_groups.h"

#include <algorithm>

#include "server/handlers/group_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool matches(const std::vector<std::string>& filter, std::string_view value) {
  if (filter.empty()) return true;
  return std::any_of(filter.begin(), filter.end(),
                     [&](const std::string& f) { return equal_ignoring_case(f, value); });
}

}  // namespace

asio::awaitable<handler_outcome> list_groups(request_context& ctx) {
  auto req = decode_request<protocol::list_groups_request>(ctx);
  if (!req) co_return close_connection{"malformed ListGroups request: " + req.error().message};
  auto call = ctx.broker->groups->list();
  auto [error, groups] = co_await std::move(call);
  protocol::list_groups_response resp;
  resp.error_code = kafka_error(error);
  constexpr std::string_view type = "classic";
  for (const auto& g : groups) {
    const auto state = coordinator::to_string(g.state);
    if (!matches(req->states_filter, state) || !matches(req->types_filter, type)) continue;
    protocol::list_groups_response::listed_group out;
    out.group_id = g.group_id;
    out.protocol_type = g.protocol_type;
    out.group_state = std::string(state);
    out.group_type = std::string(type);
    resp.groups.push_back(std::move(out));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
