// CreateTopics: decode, hand the topics to the controller, answer one result per topic in
// request order. v5+ results carry the created topic's partitions, replication factor and
// configs; v7+ its id.

#include "protocol/messages/create_topics.h"

#include "cluster/config_resolver.h"
#include "server/handlers/cluster_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

namespace {

cluster::new_topic to_new_topic(const protocol::create_topics_request::creatable_topic& t) {
  cluster::new_topic out{t.name, t.num_partitions, t.replication_factor, {}, {}};
  for (const auto& a : t.assignments) out.assignments.push_back({a.partition_index, a.broker_ids});
  for (const auto& c : t.configs) out.configs.push_back({c.name, c.value});
  return out;
}

void fill_created(const broker_context& broker, const cluster::image& image,
                  const cluster::created_topic& created,
                  protocol::create_topics_response::creatable_topic_result& result) {
  result.topic_id = created.topic_id;
  result.num_partitions = created.num_partitions;
  result.replication_factor = created.replication_factor;
  cluster::config_resolver resolver(image, *broker.config);
  std::vector<protocol::create_topics_response::creatable_topic_configs> configs;
  for (const auto& c : resolver.describe_topic(created.configs, {})) {
    protocol::create_topics_response::creatable_topic_configs out;
    out.name = c.name;
    out.value = c.sensitive ? std::nullopt : c.value;
    out.read_only = c.read_only;
    out.config_source = kafka_config_source(c.source);
    out.is_sensitive = c.sensitive;
    configs.push_back(std::move(out));
  }
  result.configs = std::move(configs);
}

}  // namespace

asio::awaitable<handler_outcome> create_topics(request_context& ctx) {
  auto req = decode_request<protocol::create_topics_request>(ctx);
  if (!req) co_return close_connection{"malformed CreateTopics request: " + req.error().message};
  const broker_context& broker = *ctx.broker;

  std::vector<cluster::new_topic> topics;
  for (const auto& t : req->topics) topics.push_back(to_new_topic(t));
  const bool validate_only = req->validate_only;
  auto call =
      call_controller(broker, [topics = std::move(topics), validate_only](cluster::controller& c) {
        return c.create_topics(topics, validate_only);
      });
  // Built outside the co_await: GCC 12 destroys temporaries of a co_await expression twice.
  auto results = co_await std::move(call);

  auto image = broker.images->current();
  protocol::create_topics_response resp;
  for (size_t i = 0; i < results.size(); ++i) {
    protocol::create_topics_response::creatable_topic_result result;
    result.name = req->topics[i].name;
    if (results[i]) {
      result.error_message = std::nullopt;
      fill_created(broker, *image, *results[i], result);
    } else {
      result.error_code = static_cast<int16_t>(kafka_error(results[i].error().code));
      result.error_message = results[i].error().message;
    }
    resp.topics.push_back(std::move(result));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
