// Metadata: brokers, cluster id, controller and topics from the current metadata image.
//
// Missing topics are auto-created when the request allows it (v4+: allow_auto_topic_creation;
// always before v4) and auto.create.topics.enable is true, with num.partitions and
// default.replication.factor. As in Kafka 4 (KRaft), the answer for a topic this request
// created is UNKNOWN_TOPIC_OR_PARTITION: clients retry and find it on the next request.
// Internal topics are left to their coordinators, which create them with their own settings.

#include "protocol/messages/metadata.h"

#include <set>

#include "server/handlers/cluster_errors.h"
#include "server/handlers/handlers.h"
#include "server/handlers/partition_view.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::metadata_response;

response::metadata_response_topic known_topic(const cluster::topic_info& topic) {
  response::metadata_response_topic out;
  out.name = topic.name;
  out.topic_id = topic.id;
  out.is_internal = topic.is_internal();
  for (const auto& p : topic.partitions)
    out.partitions.push_back(to_kafka_partition<response::metadata_response_partition>(p));
  return out;
}

response::metadata_response_topic missing_topic(std::optional<std::string> name, model::uuid id,
                                                protocol::error_code error) {
  response::metadata_response_topic out;
  out.error_code = static_cast<int16_t>(error);
  out.name = std::move(name);
  out.topic_id = id;
  out.is_internal =
      out.name && (*out.name == "__consumer_offsets" || *out.name == "__transaction_state");
  return out;
}

bool may_auto_create(const request_context& ctx, const protocol::metadata_request& req) {
  const bool allowed = ctx.version() < 4 || req.allow_auto_topic_creation;
  return allowed && ctx.broker->config->get_bool("auto.create.topics.enable");
}

void add_brokers(const request_context& ctx, response& resp) {
  const broker_context& broker = *ctx.broker;
  auto advertised = broker.advertised.find(ctx.listener_name);
  if (advertised != broker.advertised.end()) {
    response::metadata_response_broker b;
    b.node_id = broker.node_id;
    b.host = advertised->second.host;
    b.port = advertised->second.port;
    if (!broker.rack.empty()) b.rack = broker.rack;
    resp.brokers.push_back(std::move(b));
  }
  resp.cluster_id = broker.cluster_id;
  resp.controller_id = broker.node_id;
}

}  // namespace

asio::awaitable<handler_outcome> metadata(request_context& ctx) {
  auto req = decode_request<protocol::metadata_request>(ctx);
  if (!req) {
    co_return close_connection{"malformed Metadata request: " + req.error().message};
  }
  response resp;
  add_brokers(ctx, resp);
  auto image = ctx.broker->images->current();
  // v0 has no null list: an empty one means every topic.
  const bool all_topics = !req->topics || (ctx.version() == 0 && req->topics->empty());
  if (all_topics) {
    for (const auto& [name, topic] : image->topics()) resp.topics.push_back(known_topic(*topic));
    co_return respond(ctx, resp);
  }

  std::vector<cluster::new_topic> to_create;
  std::set<std::string, std::less<>> seen;
  for (const auto& t : *req->topics) {
    if (!t.name) {
      // By id (v10+).
      auto topic = image->find_topic(t.topic_id);
      // An unknown topic's name is null from v12 on; before, the field is not nullable.
      std::optional<std::string> none;
      if (ctx.version() < 12) none.emplace();
      resp.topics.push_back(topic ? known_topic(*topic)
                                  : missing_topic(std::move(none), t.topic_id,
                                                  protocol::error_code::unknown_topic_id));
      continue;
    }
    if (!seen.insert(*t.name).second) continue;  // Kafka answers each name once
    if (auto topic = image->find_topic(*t.name)) {
      resp.topics.push_back(known_topic(*topic));
      continue;
    }
    if (!cluster::validate_topic_name(*t.name)) {
      resp.topics.push_back(
          missing_topic(t.name, {}, protocol::error_code::invalid_topic_exception));
      continue;
    }
    resp.topics.push_back(
        missing_topic(t.name, {}, protocol::error_code::unknown_topic_or_partition));
    if (may_auto_create(ctx, *req) && !resp.topics.back().is_internal)
      to_create.push_back(cluster::new_topic{*t.name, -1, -1, {}, {}});
  }
  if (!to_create.empty()) {
    // The answers stay UNKNOWN_TOPIC_OR_PARTITION whatever the outcome (see the file comment);
    // a topic that cannot be created (a name collision, say) is simply not there next time.
    auto call =
        call_controller(*ctx.broker, [to_create = std::move(to_create)](cluster::controller& c) {
          return c.create_topics(to_create, /*validate_only=*/false);
        });
    // Built outside the co_await: GCC 12 destroys temporaries of a co_await expression twice.
    auto created = co_await std::move(call);
    for (size_t i = 0; i < created.size(); ++i) {
      if (!created[i]) {
        logger("server")->debug("auto-creation failed: {}", created[i].error().message);
      }
    }
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
