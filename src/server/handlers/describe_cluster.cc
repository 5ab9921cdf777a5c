// DescribeCluster: this broker (the only one, and the controller) and the cluster id.

#include "protocol/messages/describe_cluster.h"

#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

namespace {

constexpr int8_t endpoint_type_broker = 1;
constexpr int8_t endpoint_type_controller = 2;

}  // namespace

asio::awaitable<handler_outcome> describe_cluster(request_context& ctx) {
  auto req = decode_request<protocol::describe_cluster_request>(ctx);
  if (!req) co_return close_connection{"malformed DescribeCluster request: " + req.error().message};
  const broker_context& broker = *ctx.broker;
  protocol::describe_cluster_response resp;
  resp.endpoint_type = req->endpoint_type;
  // Like Kafka's brokers, this listener serves broker endpoints only.
  if (req->endpoint_type == endpoint_type_controller) {
    resp.error_code = static_cast<int16_t>(protocol::error_code::mismatched_endpoint_type);
    resp.error_message =
        "The request was sent to an endpoint of type BROKER, but we wanted an "
        "endpoint of type CONTROLLER";
    co_return respond(ctx, resp);
  }
  if (req->endpoint_type != endpoint_type_broker) {
    resp.error_code = static_cast<int16_t>(protocol::error_code::unsupported_endpoint_type);
    resp.error_message = fmt::format("Unsupported endpoint type {}", req->endpoint_type);
    co_return respond(ctx, resp);
  }
  resp.cluster_id = broker.cluster_id;
  resp.controller_id = broker.node_id;
  auto advertised = broker.advertised.find(ctx.listener_name);
  if (advertised != broker.advertised.end()) {
    protocol::describe_cluster_response::describe_cluster_broker b;
    b.broker_id = broker.node_id;
    b.host = advertised->second.host;
    b.port = advertised->second.port;
    if (!broker.rack.empty()) b.rack = broker.rack;
    resp.brokers.push_back(std::move(b));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
