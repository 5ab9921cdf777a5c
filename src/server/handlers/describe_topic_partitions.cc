// DescribeTopicPartitions: topics in name order with their partitions, at most
// response_partition_limit partitions per response; next_cursor says where the next page
// starts (KIP-966).

#include "protocol/messages/describe_topic_partitions.h"

#include <algorithm>
#include <set>

#include "server/handlers/handlers.h"
#include "server/handlers/partition_view.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::describe_topic_partitions_response;

// Kafka's max.request.partition.size.limit default: a request may ask for fewer, not more.
constexpr int32_t partitions_per_response_max = 2000;

}  // namespace

asio::awaitable<handler_outcome> describe_topic_partitions(request_context& ctx) {
  auto req = decode_request<protocol::describe_topic_partitions_request>(ctx);
  if (!req) {
    co_return close_connection{"malformed DescribeTopicPartitions request: " + req.error().message};
  }
  auto image = ctx.broker->images->current();
  // The names to describe, sorted and without duplicates; every topic when none is named.
  std::set<std::string, std::less<>> names;
  if (req->topics.empty()) {
    for (const auto& [name, topic] : image->topics()) names.insert(name);
  } else {
    for (const auto& t : req->topics) names.insert(t.name);
  }
  int32_t first_partition = 0;
  auto from = names.begin();
  if (req->cursor) {
    from = names.lower_bound(req->cursor->topic_name);
    if (from != names.end() && *from == req->cursor->topic_name)
      first_partition = std::max(0, req->cursor->partition_index);
  }
  int32_t room = std::clamp(req->response_partition_limit, int32_t{1}, partitions_per_response_max);

  response resp;
  for (auto it = from; it != names.end(); ++it) {
    response::describe_topic_partitions_response_topic out;
    out.name = *it;
    auto topic = image->find_topic(*it);
    if (topic == nullptr) {
      out.error_code = static_cast<int16_t>(protocol::error_code::unknown_topic_or_partition);
      resp.topics.push_back(std::move(out));
      continue;
    }
    if (room == 0) {
      resp.next_cursor = response::cursor_data{*it, 0, {}};
      break;
    }
    out.topic_id = topic->id;
    out.is_internal = topic->is_internal();
    const int32_t start = it == from ? first_partition : 0;
    int32_t p = start;
    for (; p < topic->partition_count() && room > 0; ++p, --room) {
      out.partitions.push_back(
          to_kafka_partition<response::describe_topic_partitions_response_partition>(
              topic->partitions[static_cast<size_t>(p)]));
    }
    resp.topics.push_back(std::move(out));
    if (p < topic->partition_count()) {
      resp.next_cursor = response::cursor_data{*it, p, {}};
      break;
    }
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
