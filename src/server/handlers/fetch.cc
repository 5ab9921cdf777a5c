// Fetch: decode, resolve each partition against the image (by name, by topic id from v13), read
// on the owner shards (server/partition_ops.h) and answer with file ranges that the connection
// sends with sendfile(2).
//
// Limits as in Kafka: each partition gets at most partition_max_bytes, the response at most
// max_bytes, except that the first partition with data returns at least one whole batch. Nothing
// at or above the high watermark is returned.
//
// Long poll: while fewer than min_bytes are available and max_wait_ms has not passed, the fetch
// registers a waiter on each partition's owner shard and sleeps on a timer that an append to any
// of them cancels; it then reads again. An error on any partition answers at once.
//
// Fetch sessions (KIP-227) are not kept: every request is served as a full fetch and answered
// with session_id 0, which tells a client asking for a session (epoch 0) that it has none. A
// request naming a session (session_id != 0) gets FETCH_SESSION_ID_NOT_FOUND.

#include "protocol/messages/fetch.h"

#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <chrono>

#include "server/handlers/handlers.h"
#include "server/partition_ops.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::fetch_response;
using clock = std::chrono::steady_clock;

// One requested partition, resolved against the image once per request.
struct wanted {
  size_t topic_index = 0;
  model::topic_partition tp;
  int64_t fetch_offset = 0;
  int32_t partition_max_bytes = 0;
  protocol::error_code error = protocol::error_code::none;
};

int16_t code(protocol::error_code e) {
  return static_cast<int16_t>(e);
}

protocol::error_code kafka_error(partition_errc c) {
  switch (c) {
    case partition_errc::offset_out_of_range:
      return protocol::error_code::offset_out_of_range;
    case partition_errc::not_hosted:
      return protocol::error_code::not_leader_or_follower;
    default:
      return protocol::error_code::kafka_storage_error;
  }
}

std::vector<wanted> resolve(const request_context& ctx, const protocol::fetch_request& req,
                            const cluster::image& image, response& resp) {
  std::vector<wanted> out;
  const bool by_id = ctx.version() >= 13;
  for (const auto& t : req.topics) {
    response::fetchable_topic_response topic_out;
    topic_out.topic = t.topic;
    topic_out.topic_id = t.topic_id;
    auto topic = by_id ? image.find_topic(t.topic_id) : image.find_topic(t.topic);
    for (const auto& p : t.partitions) {
      wanted w;
      w.topic_index = resp.responses.size();
      w.fetch_offset = p.fetch_offset;
      w.partition_max_bytes = std::max(0, p.partition_max_bytes);
      w.tp = {topic ? topic->name : t.topic, model::partition_id(p.partition)};
      if (!topic) {
        w.error = by_id ? protocol::error_code::unknown_topic_id
                        : protocol::error_code::unknown_topic_or_partition;
      } else if (p.partition < 0 || p.partition >= topic->partition_count()) {
        w.error = protocol::error_code::unknown_topic_or_partition;
      }
      response::partition_data pd;
      pd.partition_index = p.partition;
      topic_out.partitions.push_back(std::move(pd));
      out.push_back(std::move(w));
    }
    resp.responses.push_back(std::move(topic_out));
  }
  return out;
}

protocol::records_data as_file_range(storage::segment_read range) {
  auto held = std::make_shared<storage::segment_read>(std::move(range));
  protocol::file_range fr;
  fr.fd = held->log->fd();
  fr.position = static_cast<int64_t>(held->position);
  fr.length = static_cast<int64_t>(held->length);
  fr.keepalive = held;
  return protocol::records_data::files({std::move(fr)});
}

struct read_summary {
  int64_t bytes = 0;
  bool any_error = false;
};

// Reads every partition once, filling `resp` (whose partitions `resolve` laid out in order).
asio::awaitable<read_summary> read_all(partition_registry& registry, std::vector<wanted> parts,
                                       int32_t response_max_bytes, response& resp) {
  read_summary summary;
  int64_t remaining = std::max(0, response_max_bytes);
  size_t index_in_topic = 0;
  size_t last_topic = SIZE_MAX;
  for (const auto& w : parts) {
    index_in_topic = w.topic_index == last_topic ? index_in_topic + 1 : 0;
    last_topic = w.topic_index;
    auto& pd = resp.responses[w.topic_index].partitions[index_in_topic];
    pd.error_code = code(w.error);
    pd.high_watermark = -1;
    pd.records = protocol::records_data::empty();
    if (w.error != protocol::error_code::none) {
      summary.any_error = true;
      continue;
    }
    const uint64_t budget =
        static_cast<uint64_t>(std::min<int64_t>(w.partition_max_bytes, remaining));
    auto call =
        read_records(registry, w.tp, model::offset(w.fetch_offset), budget, summary.bytes == 0);
    auto read = co_await std::move(call);
    if (read.error) {
      pd.error_code = code(kafka_error(read.error->code));
      summary.any_error = true;
      continue;
    }
    pd.high_watermark = read.high_watermark.value();
    pd.last_stable_offset = read.high_watermark.value();
    pd.log_start_offset = read.log_start_offset.value();
    if (read.range && read.range->length > 0) {
      summary.bytes += static_cast<int64_t>(read.range->length);
      remaining -= static_cast<int64_t>(read.range->length);
      pd.records = as_file_range(std::move(*read.range));
    }
  }
  co_return summary;
}

}  // namespace

asio::awaitable<handler_outcome> fetch(request_context& ctx) {
  auto req = decode_request<protocol::fetch_request>(ctx);
  if (!req) co_return close_connection{"malformed Fetch request: " + req.error().message};
  const broker_context& broker = *ctx.broker;

  if (req->session_id != 0) {
    response resp;
    resp.error_code = code(protocol::error_code::fetch_session_id_not_found);
    co_return respond(ctx, resp);
  }

  const auto deadline = clock::now() + std::chrono::milliseconds(std::max(0, req->max_wait_ms));
  auto executor = co_await asio::this_coro::executor;
  while (true) {
    auto image = broker.images->current();
    response resp;
    auto parts = resolve(ctx, *req, *image, resp);
    std::vector<std::pair<model::topic_partition, model::offset>> watch;
    for (const auto& w : parts) watch.emplace_back(w.tp, model::offset(w.fetch_offset));
    auto call = read_all(*broker.partitions, std::move(parts), req->max_bytes, resp);
    auto summary = co_await std::move(call);
    if (summary.any_error || summary.bytes >= req->min_bytes || clock::now() >= deadline ||
        watch.empty()) {
      co_return respond(ctx, resp);
    }
    auto waiter = std::make_shared<fetch_waiter>(executor);
    waiter->timer.expires_at(deadline);
    auto reg = register_waiter(*broker.partitions, std::move(watch), waiter);
    co_await std::move(reg);
    if (!waiter->woken) {
      asio::error_code ec;
      auto wait = waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(wait);
    }
  }
}

}  // namespace sluice::server::handlers
