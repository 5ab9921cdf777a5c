// DescribeLogDirs: every configured log dir (absolute path) with the partitions it holds among
// those asked for (topics null: all), each with its size on disk, an offset lag of 0 (a single
// node's logs are never behind their high watermark) and is_future_key false (no
// AlterReplicaLogDirs moves). v4 adds the volume's total and usable bytes (statvfs). A dir that
// cannot be read (statvfs fails: gone, unmounted) or holds a failed log is offline and gets
// KAFKA_STORAGE_ERROR with no topics, as in Kafka. Topics with no requested partition in a dir
// are left out, as Kafka 4 does. The metadata log's partition is not a data log and is not
// listed (Kafka's KRaft log is not in its LogManager either).

#include "protocol/messages/describe_log_dirs.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>

#include "server/handlers/handlers.h"
#include "server/offset_ops.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::describe_log_dirs_response;

// Kafka reports sizes as signed 64-bit numbers and a volume too large for them as the maximum.
int64_t clamp_bytes(uint64_t bytes) {
  return bytes > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(bytes);
}

std::string absolute_path(const std::string& dir) {
  std::error_code ec;
  auto path = std::filesystem::absolute(dir, ec);
  if (ec) return dir;
  return path.lexically_normal().string();
}

}  // namespace

asio::awaitable<handler_outcome> describe_log_dirs(request_context& ctx) {
  auto req = decode_request<protocol::describe_log_dirs_request>(ctx);
  if (!req) {
    co_return close_connection{"malformed DescribeLogDirs request: " + req.error().message};
  }
  const broker_context& broker = *ctx.broker;
  storage::log_manager& logs = broker.partitions->logs();

  // nullopt: every partition.
  std::optional<std::set<model::topic_partition>> wanted;
  if (req->topics) {
    wanted.emplace();
    for (const auto& t : *req->topics) {
      for (int32_t p : t.partitions) wanted->insert({t.topic, model::partition_id(p)});
    }
  }
  std::map<std::string, std::vector<model::topic_partition>> by_dir;
  for (auto& [tp, dir] : logs.placements()) {
    if (!wanted || wanted->contains(tp)) by_dir[dir].push_back(tp);
  }

  response resp;
  std::set<std::string> seen;
  for (const auto& dir : logs.log_dirs()) {
    if (!seen.insert(dir).second) continue;
    response::describe_log_dirs_result dir_out;
    dir_out.log_dir = absolute_path(dir);
    auto space = storage::volume_space_of(dir);
    bool offline = !space;
    std::vector<response::describe_log_dirs_topic> topics;
    for (const auto& tp : by_dir[dir]) {
      if (offline) break;
      auto call = describe_partition(*broker.partitions, tp);
      auto found = co_await std::move(call);
      if (!found) continue;  // removed meanwhile
      if (found->failed) {
        offline = true;
        break;
      }
      if (topics.empty() || topics.back().name != tp.topic) topics.emplace_back().name = tp.topic;
      auto& p = topics.back().partitions.emplace_back();
      p.partition_index = tp.partition.value();
      p.partition_size = found->size_bytes;
      p.offset_lag = 0;
      p.is_future_key = false;
    }
    if (offline) {
      dir_out.error_code = protocol::number(protocol::error_code::kafka_storage_error);
    } else {
      dir_out.topics = std::move(topics);
      dir_out.total_bytes = clamp_bytes(space->total_bytes);
      dir_out.usable_bytes = clamp_bytes(space->usable_bytes);
    }
    resp.results.push_back(std::move(dir_out));
  }
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
