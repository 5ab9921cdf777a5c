// Produce: decode, check each partition against the image, validate its batches and append
// them on the partition's owner shard (server/partition_ops.h), answer per partition.
//
// acks=0 gets no response (and, as in Kafka, a failed partition closes the connection so that
// the producer notices); acks=1 and acks=-1 are answered after the append: on a single node the
// ISR is this broker, and a log whose flush.messages asks for it is synced (group commit) before
// the answer. Batches of idempotent producers are checked against the partition's producer
// state (storage/producer_state.h): a retry is answered with the original offsets, a gap with
// OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch with INVALID_PRODUCER_EPOCH. LogAppendTime topics
// get their batches stamped on the owner shard just before the append.

#include "protocol/messages/produce.h"

#include <chrono>
#include <unordered_map>

#include "cluster/config_resolver.h"
#include "server/handlers/handlers.h"
#include "server/handlers/partition_errors.h"
#include "server/partition_ops.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::produce_response;

// The topic settings Produce applies: max.message.bytes and message.timestamp.type.
struct topic_limits {
  int64_t batch_bytes_max = 0;
  bool log_append_time = false;
  int64_t timestamp_before_max = INT64_MAX;  // message.timestamp.before.max.ms
  int64_t timestamp_after_max = INT64_MAX;   // message.timestamp.after.max.ms
};

int64_t config_int(const cluster::config_map& configs, std::string_view key, int64_t fallback) {
  auto it = configs.find(key);
  if (it == configs.end()) return fallback;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return fallback;
  }
}

topic_limits limits_of(const broker_context& broker, const cluster::image& image,
                       const cluster::topic_info& topic) {
  cluster::config_resolver resolver(image, *broker.config);
  auto configs = resolver.effective_topic_configs(topic.configs);
  topic_limits out;
  out.batch_bytes_max = broker.config->get_int("message.max.bytes");
  if (auto it = configs.find("max.message.bytes"); it != configs.end()) {
    try {
      out.batch_bytes_max = std::stoll(it->second);
    } catch (const std::exception&) {
    }
  }
  if (auto it = configs.find("message.timestamp.type"); it != configs.end())
    out.log_append_time = it->second == "LogAppendTime";
  out.timestamp_before_max = config_int(configs, "message.timestamp.before.max.ms", INT64_MAX);
  out.timestamp_after_max = config_int(configs, "message.timestamp.after.max.ms", INT64_MAX);
  return out;
}

// Resolving a topic's settings through config_resolver builds its whole effective config; done
// for every Produce it took about a third of the broker's CPU on small requests. Each shard (a
// thread) keeps the settings of the topics it has seen, for one metadata image: a new image (a
// topic or broker config changed, a topic was created or deleted) empties it.
class limits_cache {
 public:
  const topic_limits& get(const broker_context& broker, const cluster::image& image,
                          const cluster::topic_info& topic) {
    if (&broker != _broker || image.offset() != _image_offset) {
      _by_topic.clear();
      _broker = &broker;
      _image_offset = image.offset();
    }
    auto [it, inserted] = _by_topic.try_emplace(topic.id);
    if (inserted) it->second = limits_of(broker, image, topic);
    return it->second;
  }

 private:
  const broker_context* _broker = nullptr;
  model::offset _image_offset{-1};
  std::unordered_map<model::uuid, topic_limits> _by_topic;
};

thread_local limits_cache shard_limits;

response::partition_produce_response failed(int32_t index, int16_t error, std::string message) {
  response::partition_produce_response out;
  out.index = index;
  out.error_code = error;
  out.base_offset = -1;
  out.error_message = std::move(message);
  return out;
}

}  // namespace

asio::awaitable<handler_outcome> produce(request_context& ctx) {
  auto req = decode_request<protocol::produce_request>(ctx);
  if (!req) co_return close_connection{"malformed Produce request: " + req.error().message};
  const broker_context& broker = *ctx.broker;
  auto image = broker.images->current();
  const bool by_id = ctx.version() >= 13;
  const bool acks_valid = req->acks == 0 || req->acks == 1 || req->acks == -1;
  bool any_error = false;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();

  // Validate everything first, then hand every append over at once (partition_ops.h append_all
  // explains why); `slots` says which response entry each append fills.
  response resp;
  std::vector<append_item> appends;
  // Produce v0-v2 carry message formats 0/1: each is converted to one v2 batch, kept here until
  // the appends are done (moving the outer vector keeps each buffer where it is).
  std::vector<std::vector<uint8_t>> converted;
  const bool legacy_format = ctx.version() < 3;
  std::vector<std::pair<size_t, size_t>> slots;  // (topic, partition) index in resp
  for (auto& t : req->topic_data) {
    response::topic_produce_response topic_out;
    topic_out.name = t.name;
    topic_out.topic_id = t.topic_id;
    auto topic = by_id ? image->find_topic(t.topic_id) : image->find_topic(t.name);
    const auto unknown =
        static_cast<int16_t>(by_id ? protocol::error_code::unknown_topic_id
                                   : protocol::error_code::unknown_topic_or_partition);
    const topic_limits limits = topic ? shard_limits.get(broker, *image, *topic) : topic_limits{};
    for (auto& p : t.partition_data) {
      if (!acks_valid) {
        topic_out.partition_responses.push_back(
            failed(p.index, static_cast<int16_t>(protocol::error_code::invalid_required_acks),
                   "acks must be 0, 1 or -1"));
        continue;
      }
      if (!topic || p.index < 0 || p.index >= topic->partition_count()) {
        topic_out.partition_responses.push_back(
            failed(p.index, static_cast<int16_t>(protocol::error_code::unknown_topic_or_partition),
                   "unknown topic or partition"));
        if (!topic) topic_out.partition_responses.back().error_code = unknown;
        continue;
      }
      auto bytes = p.records.memory();
      if (legacy_format) {
        auto up = upconvert_produce_records(bytes);
        if (!up) {
          topic_out.partition_responses.push_back(
              failed(p.index, protocol::number(kafka_error(up.error().code)), up.error().message));
          continue;
        }
        converted.push_back(std::move(*up));
        bytes = converted.back();
      }
      batch_timestamps stamps;
      if (auto valid =
              validate_produce_records(bytes, limits.batch_bytes_max, ctx.version() >= 7, &stamps);
          !valid) {
        topic_out.partition_responses.push_back(failed(
            p.index, protocol::number(kafka_error(valid.error().code)), valid.error().message));
        continue;
      }
      if (!limits.log_append_time) {
        if (auto bad = timestamp_out_of_bounds(stamps.records, now_ms, limits.timestamp_before_max,
                                               limits.timestamp_after_max)) {
          topic_out.partition_responses.push_back(
              failed(p.index, static_cast<int16_t>(protocol::error_code::invalid_timestamp), *bad));
          continue;
        }
      }
      // The frame was allocated mutable by the connection and only this handler uses it now:
      // the append patches base offsets and leader epochs in place (ARCHITECTURE decision 2).
      std::span<uint8_t> mutable_bytes(const_cast<uint8_t*>(bytes.data()), bytes.size());
      if (stamps.max_timestamp_fix && !limits.log_append_time)
        protocol::set_max_timestamp(mutable_bytes, *stamps.max_timestamp_fix);
      model::topic_partition tp{topic->name, model::partition_id(p.index)};
      auto epoch = topic->partitions[static_cast<size_t>(p.index)].leader_epoch;
      appends.push_back({std::move(tp), mutable_bytes, epoch, limits.log_append_time});
      slots.emplace_back(resp.responses.size(), topic_out.partition_responses.size());
      response::partition_produce_response pending;
      pending.index = p.index;
      topic_out.partition_responses.push_back(std::move(pending));
    }
    resp.responses.push_back(std::move(topic_out));
  }

  auto call = append_all(*broker.partitions, std::move(appends));
  auto appended = co_await std::move(call);
  for (size_t i = 0; i < appended.size(); ++i) {
    auto& out = resp.responses[slots[i].first].partition_responses[slots[i].second];
    if (appended[i].error) {
      out = failed(out.index, protocol::number(kafka_error(appended[i].error->code)),
                   appended[i].error->message);
    } else {
      out.base_offset = appended[i].base_offset.value();
      out.log_start_offset = appended[i].log_start_offset.value();
      out.log_append_time_ms = appended[i].log_append_time_ms;
    }
  }
  for (const auto& t : resp.responses) {
    for (const auto& r : t.partition_responses) {
      if (r.error_code == 0) continue;
      any_error = true;
      logger("server")->debug("produce to {}-{} from {}: error {}", t.name, r.index,
                              ctx.client_address, r.error_code);
    }
  }
  if (req->acks == 0) {
    if (any_error) co_return close_connection{"acks=0 produce failed on a partition"};
    co_return no_response{};
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
