// ApiVersions: the versions of every API this broker serves, straight from the registry.

#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

protocol::api_versions_response api_versions_body(const broker_context& broker,
                                                  protocol::error_code error) {
  protocol::api_versions_response resp;
  resp.error_code = static_cast<int16_t>(error);
  for (const auto& entry : broker.registry.entries()) {
    protocol::api_versions_response::api_version v;
    v.api_key = entry.key;
    v.min_version = entry.advertised_min_version;
    v.max_version = entry.max_version;
    resp.api_keys.push_back(v);
  }
  return resp;
}

asio::awaitable<handler_outcome> api_versions(request_context& ctx) {
  auto req = decode_request<protocol::api_versions_request>(ctx);
  if (!req) {
    // Kafka answers a malformed ApiVersions request with INVALID_REQUEST rather than closing,
    // so that old clients learn what went wrong.
    logger("server")->warn("malformed ApiVersions v{} request from {}: {}", ctx.version(),
                           ctx.client_address, req.error().message);
    co_return respond(ctx, api_versions_body(*ctx.broker, protocol::error_code::invalid_request));
  }
  co_return respond(ctx, api_versions_body(*ctx.broker, protocol::error_code::none));
}

}  // namespace sluice::server::handlers
