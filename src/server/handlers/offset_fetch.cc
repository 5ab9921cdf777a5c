// OffsetFetch: a group's committed offsets (one group before v8, several from v8, topics by id
// from v10). A partition without a committed offset answers offset -1 and empty metadata;
// null topics mean every partition the group has committed. Group-level errors
// (COORDINATOR_LOAD_IN_PROGRESS, ...) go, as Kafka puts them, in every requested partition
// (v0-1, which have no top-level error), the top-level error with no partitions (v2-7), or
// the group's error with no partitions (v8+).

#include "protocol/messages/offset_fetch.h"

#include "server/handlers/group_errors.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::offset_fetch_response;
using partition_list = std::vector<std::pair<std::string, int32_t>>;

struct group_answer {
  coordinator::errc error = coordinator::errc::none;
  std::vector<coordinator::fetched_offset> offsets;
};

asio::awaitable<group_answer> fetch_group(const request_context& ctx, std::string group_id,
                                          std::optional<partition_list> partitions) {
  auto call = ctx.broker->groups->fetch(std::move(group_id), std::move(partitions));
  auto [error, offsets] = co_await std::move(call);
  co_return group_answer{error, std::move(offsets)};
}

// v1-7.
asio::awaitable<handler_outcome> fetch_one(request_context& ctx,
                                           protocol::offset_fetch_request& req) {
  std::optional<partition_list> wanted;
  if (req.topics) {
    wanted.emplace();
    for (const auto& t : *req.topics)
      for (int32_t p : t.partition_indexes) wanted->emplace_back(t.name, p);
  }
  auto call = fetch_group(ctx, req.group_id, wanted);
  group_answer a = co_await std::move(call);
  response resp;
  resp.error_code = kafka_error(a.error);
  if (a.error != coordinator::errc::none && wanted && ctx.version() < 2) {
    // Every partition carries the error (v0-1 have no other place for it).
    for (const auto& [topic, partition] : *wanted)
      a.offsets.push_back({topic, partition, -1, -1, ""});
  }
  for (const auto& o : a.offsets) {
    if (resp.topics.empty() || resp.topics.back().name != o.topic) {
      response::offset_fetch_response_topic t;
      t.name = o.topic;
      resp.topics.push_back(std::move(t));
    }
    response::offset_fetch_response_partition p;
    p.partition_index = o.partition;
    p.committed_offset = o.offset;
    p.committed_leader_epoch = o.leader_epoch;
    p.metadata = o.metadata;
    p.error_code = a.error == coordinator::errc::none ? 0 : kafka_error(a.error);
    resp.topics.back().partitions.push_back(std::move(p));
  }
  co_return respond(ctx, resp);
}

}  // namespace

asio::awaitable<handler_outcome> offset_fetch(request_context& ctx) {
  auto req = decode_request<protocol::offset_fetch_request>(ctx);
  if (!req) co_return close_connection{"malformed OffsetFetch request: " + req.error().message};
  auto ensure = ensure_offsets_topic_for_v0(ctx);
  co_await std::move(ensure);
  if (ctx.version() < 8) {
    auto call = fetch_one(ctx, *req);
    co_return co_await std::move(call);
  }
  const bool by_id = ctx.version() >= 10;
  auto image = ctx.broker->images->current();
  response resp;
  for (const auto& g : req->groups) {
    response::offset_fetch_response_group out;
    out.group_id = g.group_id;
    std::optional<partition_list> wanted;
    // Partitions of topic ids that do not exist, answered UNKNOWN_TOPIC_ID.
    std::vector<std::pair<model::uuid, int32_t>> unknown_ids;
    if (g.topics) {
      wanted.emplace();
      for (const auto& t : *g.topics) {
        std::string name = t.name;
        if (by_id) {
          auto topic = image->find_topic(t.topic_id);
          if (!topic) {
            for (int32_t p : t.partition_indexes) unknown_ids.emplace_back(t.topic_id, p);
            continue;
          }
          name = topic->name;
        }
        for (int32_t p : t.partition_indexes) wanted->emplace_back(name, p);
      }
    }
    auto call = fetch_group(ctx, g.group_id, wanted);
    group_answer a = co_await std::move(call);
    out.error_code = kafka_error(a.error);
    for (const auto& o : a.offsets) {
      if (out.topics.empty() || out.topics.back().name != o.topic) {
        response::offset_fetch_response_topics t;
        t.name = o.topic;
        if (by_id) {
          auto topic = image->find_topic(o.topic);
          if (!topic) continue;  // offsets of a deleted topic have no id to answer with
          t.topic_id = topic->id;
        }
        out.topics.push_back(std::move(t));
      }
      response::offset_fetch_response_partitions p;
      p.partition_index = o.partition;
      p.committed_offset = o.offset;
      p.committed_leader_epoch = o.leader_epoch;
      p.metadata = o.metadata;
      out.topics.back().partitions.push_back(std::move(p));
    }
    for (const auto& [id, partition] : unknown_ids) {
      response::offset_fetch_response_topics t;
      t.topic_id = id;
      response::offset_fetch_response_partitions p;
      p.partition_index = partition;
      p.committed_offset = -1;
      p.metadata = "";
      p.error_code = static_cast<int16_t>(protocol::error_code::unknown_topic_id);
      t.partitions.push_back(std::move(p));
      out.topics.push_back(std::move(t));
    }
    resp.groups.push_back(std::move(out));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
