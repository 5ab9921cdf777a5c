// Metadata: brokers, cluster id and controller. Topics arrive with the metadata image; until
// then every requested topic is unknown.

#include "protocol/messages/metadata.h"

#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

asio::awaitable<handler_outcome> metadata(request_context& ctx) {
  auto req = decode_request<protocol::metadata_request>(ctx);
  if (!req) {
    co_return close_connection{"malformed Metadata request: " + req.error().message};
  }
  const broker_context& broker = *ctx.broker;
  protocol::metadata_response resp;
  auto advertised = broker.advertised.find(ctx.listener_name);
  if (advertised != broker.advertised.end()) {
    protocol::metadata_response::metadata_response_broker b;
    b.node_id = broker.node_id;
    b.host = advertised->second.host;
    b.port = advertised->second.port;
    if (!broker.rack.empty()) b.rack = broker.rack;
    resp.brokers.push_back(std::move(b));
  }
  resp.cluster_id = broker.cluster_id;
  resp.controller_id = broker.node_id;
  if (req->topics) {
    for (const auto& t : *req->topics) {
      protocol::metadata_response::metadata_response_topic topic;
      topic.error_code = static_cast<int16_t>(protocol::error_code::unknown_topic_or_partition);
      topic.name = t.name;
      topic.topic_id = t.topic_id;
      resp.topics.push_back(std::move(topic));
    }
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
