// DescribeConfigs: the effective configs of topics and of this broker, with their sources,
// synonyms (when asked) and documentation (when asked), read from the current metadata image.

#include "protocol/messages/describe_configs.h"

#include "cluster/config_resolver.h"
#include "server/handlers/cluster_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::describe_configs_response;

response::describe_configs_resource_result to_kafka(cluster::described_config& c,
                                                    bool documentation, int16_t version) {
  response::describe_configs_resource_result out;
  out.name = std::move(c.name);
  out.value = c.sensitive ? std::nullopt : std::move(c.value);
  out.read_only = c.read_only;
  out.config_source = kafka_config_source(c.source);
  if (version == 0) out.is_default = c.source == cluster::config_source::default_value;
  out.is_sensitive = c.sensitive;
  for (auto& s : c.synonyms) {
    out.synonyms.push_back({std::move(s.name),
                            c.sensitive ? std::nullopt : std::move(s.value),
                            kafka_config_source(s.source),
                            {}});
  }
  out.config_type = kafka_config_type(c.type);
  out.documentation = documentation ? std::optional<std::string>(c.documentation) : std::nullopt;
  return out;
}

// The configs of one resource, or the error that stands for it.
cluster::cresult<std::vector<cluster::described_config>> describe(
    const cluster::config_resolver& resolver, const cluster::image& image,
    const protocol::describe_configs_request::describe_configs_resource& resource,
    const cluster::describe_options& options) {
  auto type = config_resource_type(resource.resource_type);
  if (!type) {
    return cluster::make_failure(cluster::errc::invalid_request,
                                 unsupported_resource_message(resource.resource_type));
  }
  if (*type == cluster::config_resource_type::broker)
    return resolver.describe_broker(resource.resource_name, options);
  if (auto valid = cluster::validate_topic_name(resource.resource_name); !valid)
    return failure(valid.error());
  auto topic = image.find_topic(resource.resource_name);
  if (topic == nullptr) {
    return cluster::make_failure(cluster::errc::unknown_topic,
                                 fmt::format("Topic '{}' does not exist.", resource.resource_name));
  }
  return resolver.describe_topic(topic->configs, options);
}

}  // namespace

asio::awaitable<handler_outcome> describe_configs(request_context& ctx) {
  auto req = decode_request<protocol::describe_configs_request>(ctx);
  if (!req) co_return close_connection{"malformed DescribeConfigs request: " + req.error().message};
  auto image = ctx.broker->images->current();
  cluster::config_resolver resolver(*image, *ctx.broker->config);

  response resp;
  for (const auto& resource : req->resources) {
    response::describe_configs_result result;
    result.resource_type = resource.resource_type;
    result.resource_name = resource.resource_name;
    std::span<const std::string> keys;
    if (resource.configuration_keys) keys = *resource.configuration_keys;
    auto configs = describe(resolver, *image, resource, {keys, req->include_synonyms});
    if (!configs) {
      result.error_code = static_cast<int16_t>(kafka_error(configs.error().code));
      result.error_message = configs.error().message;
    } else {
      result.error_message = std::nullopt;
      // An empty (not null) key list asks for no configs, as in Kafka; the resolver reads an
      // empty list as "every key".
      if (resource.configuration_keys && resource.configuration_keys->empty()) configs->clear();
      for (auto& c : *configs)
        result.configs.push_back(to_kafka(c, req->include_documentation, ctx.version()));
    }
    resp.results.push_back(std::move(result));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
