// Fetch: decode, settle the fetch session (server/fetch_session.h), resolve each partition
// against the image (by name, by topic id from v13), read on the owner shards
// (server/partition_ops.h) and answer with file ranges that the connection sends with
// sendfile(2).
//
// Limits as in Kafka: each partition gets at most partition_max_bytes, the response at most
// max_bytes, except that the first partition with data returns at least one whole batch. Nothing
// at or above the high watermark is returned.
//
// Long poll: while fewer than min_bytes are available and max_wait_ms has not passed, the fetch
// registers a waiter on each partition's owner shard and sleeps on a timer that an append to any
// of them cancels; it then reads again. An error on any partition answers at once, and so does
// broker shutdown.
//
// Sessions (KIP-227), as Kafka's FetchManager handles them: a full fetch (epoch 0 or -1) closes
// the session it names; with epoch 0 it gets a new session after the read when the cache has
// room (session_id 0 in the response when not). An incremental fetch (epoch > 0) updates its
// session (added or changed partitions, forgotten_topics_data), reads every partition of the
// session, and answers only those with records, a new high watermark or log start offset, or an
// error. Session errors (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH,
// FETCH_SESSION_TOPIC_ID_ERROR) are top-level and carry no partitions.

#include "protocol/messages/fetch.h"

#include <unistd.h>

#include <algorithm>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <chrono>
#include <unordered_map>

#include "base/logging.h"
#include "protocol/legacy_records.h"
#include "server/fetch_session.h"
#include "server/handlers/handlers.h"
#include "server/handlers/partition_errors.h"
#include "server/http/counters.h"
#include "server/partition_ops.h"

namespace sluice::server::handlers {

namespace {

using response = protocol::fetch_response;
using clock = std::chrono::steady_clock;

const std::shared_ptr<spdlog::logger>& fetch_log() {
  static const auto log = logger("fetch");
  return log;
}

using handlers::kafka_error;  // partition_errc, beside the overload below

protocol::error_code kafka_error(fetch_session_errc c) {
  switch (c) {
    case fetch_session_errc::none:
      return protocol::error_code::none;
    case fetch_session_errc::not_found:
      return protocol::error_code::fetch_session_id_not_found;
    case fetch_session_errc::invalid_epoch:
      return protocol::error_code::invalid_fetch_session_epoch;
    case fetch_session_errc::topic_id_mismatch:
      return protocol::error_code::fetch_session_topic_id_error;
  }
  return protocol::error_code::unknown_server_error;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now().time_since_epoch())
      .count();
}

fetch_session_key key_of(const std::string& topic, const model::uuid& topic_id, int32_t partition,
                         bool by_id) {
  return by_id ? fetch_session_key{topic_id, {}, partition}
               : fetch_session_key{{}, topic, partition};
}

// The request's partitions in request order. A partition named twice keeps its first place and
// its last values, as Kafka's map of the request's partitions does.
std::vector<fetch_session_partition> requested(const protocol::fetch_request& req, bool by_id) {
  std::vector<fetch_session_partition> out;
  std::unordered_map<fetch_session_key, size_t, fetch_session_key_hash> seen;
  for (const auto& t : req.topics) {
    for (const auto& p : t.partitions) {
      fetch_session_partition part;
      part.key = key_of(t.topic, t.topic_id, p.partition, by_id);
      part.fetch_offset = p.fetch_offset;
      part.partition_max_bytes = std::max(0, p.partition_max_bytes);
      auto [it, fresh] = seen.emplace(part.key, out.size());
      if (fresh) {
        out.push_back(std::move(part));
      } else {
        out[it->second] = std::move(part);
      }
    }
  }
  return out;
}

std::vector<fetch_session_key> forgotten(const protocol::fetch_request& req, bool by_id) {
  std::vector<fetch_session_key> out;
  for (const auto& t : req.forgotten_topics_data)
    for (int32_t p : t.partitions) out.push_back(key_of(t.topic, t.topic_id, p, by_id));
  return out;
}

// One partition to read, resolved against the image once per read.
struct wanted {
  model::topic_partition tp;
  int64_t fetch_offset = 0;
  int32_t partition_max_bytes = 0;
  protocol::error_code error = protocol::error_code::none;
};

std::vector<wanted> resolve(const std::vector<fetch_session_partition>& plan,
                            const cluster::image& image, bool by_id) {
  std::vector<wanted> out;
  out.reserve(plan.size());
  for (const auto& p : plan) {
    auto topic = by_id ? image.find_topic(p.key.topic_id) : image.find_topic(p.key.topic);
    wanted w;
    w.fetch_offset = p.fetch_offset;
    w.partition_max_bytes = p.partition_max_bytes;
    w.tp = {topic ? topic->name : p.key.topic, model::partition_id(p.key.partition)};
    if (!topic) {
      w.error = by_id ? protocol::error_code::unknown_topic_id
                      : protocol::error_code::unknown_topic_or_partition;
    } else if (p.key.partition < 0 || p.key.partition >= topic->partition_count()) {
      w.error = protocol::error_code::unknown_topic_or_partition;
    }
    out.push_back(std::move(w));
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

// What one read of every partition found, in plan order.
struct read_round {
  std::vector<response::partition_data> parts;
  std::vector<fetch_partition_result> results;
  int64_t bytes = 0;
  bool any_error = false;
};

asio::awaitable<read_round> read_all(partition_registry& registry, std::vector<wanted> parts,
                                     int32_t response_max_bytes) {
  read_round round;
  int64_t remaining = std::max(0, response_max_bytes);
  for (const auto& w : parts) {
    response::partition_data pd;
    fetch_partition_result r;
    pd.partition_index = w.tp.partition.value();
    pd.error_code = protocol::number(w.error);
    pd.high_watermark = -1;
    pd.records = protocol::records_data::empty();
    if (w.error == protocol::error_code::none) {
      const uint64_t budget =
          static_cast<uint64_t>(std::min<int64_t>(w.partition_max_bytes, remaining));
      auto call =
          read_records(registry, w.tp, model::offset(w.fetch_offset), budget, round.bytes == 0);
      auto read = co_await std::move(call);
      if (read.error) {
        pd.error_code = protocol::number(kafka_error(read.error->code));
      } else {
        pd.high_watermark = read.high_watermark.value();
        pd.last_stable_offset = read.high_watermark.value();
        pd.log_start_offset = read.log_start_offset.value();
        if (read.range && read.range->length > 0) {
          round.bytes += static_cast<int64_t>(read.range->length);
          remaining -= static_cast<int64_t>(read.range->length);
          pd.records = as_file_range(std::move(*read.range));
          r.has_records = true;
        }
      }
    }
    r.error = pd.error_code != 0;
    r.high_watermark = pd.high_watermark;
    r.log_start_offset = pd.log_start_offset;
    round.any_error = round.any_error || r.error;
    round.parts.push_back(std::move(pd));
    round.results.push_back(r);
  }
  co_return round;
}

// Reads `plan` until min_bytes are there, an error shows, max_wait_ms passes or the broker stops.
asio::awaitable<read_round> read_with_long_poll(const broker_context& broker,
                                                std::vector<fetch_session_partition> plan,
                                                bool by_id, int32_t max_wait_ms, int32_t min_bytes,
                                                int32_t max_bytes, std::string client) {
  const auto deadline = clock::now() + std::chrono::milliseconds(std::max(0, max_wait_ms));
  auto executor = co_await asio::this_coro::executor;
  partition_registry& registry = *broker.partitions;
  while (true) {
    auto image = broker.images->current();
    auto parts = resolve(plan, *image, by_id);
    std::vector<std::pair<model::topic_partition, model::offset>> watch;
    for (const auto& w : parts) watch.emplace_back(w.tp, model::offset(w.fetch_offset));
    auto call = read_all(registry, std::move(parts), max_bytes);
    auto round = co_await std::move(call);
    if (round.any_error || round.bytes >= min_bytes || clock::now() >= deadline || watch.empty() ||
        registry.stopping()) {
      co_return round;
    }
    fetch_log()->trace("fetch from {} waits up to {} ms for {} bytes", client, max_wait_ms,
                       min_bytes);
    auto waiter = std::make_shared<fetch_waiter>(executor);
    waiter->timer.expires_at(deadline);
    auto reg = register_waiter(registry, std::move(watch), waiter);
    co_await std::move(reg);
    if (!waiter->woken) {
      asio::error_code ec;
      auto wait = waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(wait);
    }
  }
}

// The response's topics: consecutive partitions of one topic share an entry, as in Kafka.
void lay_out(const std::vector<fetch_session_partition>& plan, read_round& round,
             const std::vector<bool>* include, response& resp) {
  const fetch_session_key* last = nullptr;
  for (size_t i = 0; i < plan.size(); ++i) {
    if (include && !(*include)[i]) continue;
    const auto& key = plan[i].key;
    if (last == nullptr || last->topic_id != key.topic_id || last->topic != key.topic) {
      response::fetchable_topic_response t;
      t.topic = key.topic;
      t.topic_id = key.topic_id;
      resp.responses.push_back(std::move(t));
      last = &key;
    }
    resp.responses.back().partitions.push_back(std::move(round.parts[i]));
  }
}

// What a request asks of its session, settled before the read.
struct session_step {
  enum class mode { sessionless, create, incremental } how = mode::sessionless;
  fetch_session_errc error = fetch_session_errc::none;
  std::vector<fetch_session_partition> plan;  // what to read, in response order
  std::optional<unsigned> owner;              // the shard of the session named
  int32_t next_epoch = 0;                     // incremental: the session's epoch after this
};

// Closes the session a full fetch names; begins an incremental fetch on its session's shard.
// (The handler is split into these coroutines to keep each frame small: GCC 12 reports a false
// -Wmismatched-new-delete on asio's allocation of large coroutine frames.)
asio::awaitable<session_step> begin_session(fetch_sessions& sessions,
                                            std::shared_ptr<const protocol::fetch_request> req,
                                            bool by_id, std::string client) {
  session_step step;
  const int32_t id = req->session_id;
  const int32_t epoch = req->session_epoch;  // -1 before v7: no sessions
  step.owner = sessions.shard_of(id);
  if (epoch == fetch_epoch_initial || epoch == fetch_epoch_final) {
    if (id != fetch_session_none && step.owner) {
      // Any session a full fetch names is closed.
      auto call =
          sessions.run_on(*step.owner, [id](fetch_session_cache& c) { return c.remove(id); });
      const bool removed = co_await std::move(call);
      if (removed) fetch_log()->debug("fetch session {} closed by {}", id, client);
    }
    step.plan = requested(*req, by_id);
    if (epoch == fetch_epoch_initial) step.how = session_step::mode::create;
    co_return step;
  }
  if (!step.owner) {
    step.error = fetch_session_errc::not_found;
    co_return step;
  }
  fetch_session_cache::incremental_request ir;
  ir.id = id;
  ir.epoch = epoch;
  ir.uses_topic_ids = by_id;
  ir.upserts = requested(*req, by_id);
  ir.forgotten = forgotten(*req, by_id);
  auto call = sessions.run_on(*step.owner,
                              [ir = std::move(ir), now = now_ms()](fetch_session_cache& c) mutable {
                                return c.begin_incremental(std::move(ir), now);
                              });
  auto begun = co_await std::move(call);
  step.error = begun.error;
  if (begun.closed) {
    fetch_log()->debug("fetch session {} closed by {}: no partitions left", id, client);
  } else if (begun.error == fetch_session_errc::none) {
    step.how = session_step::mode::incremental;
    step.next_epoch = begun.epoch;
  }
  step.plan = std::move(begun.partitions);
  co_return step;
}

// After the read: creates the session (epoch 0) or picks what an incremental response carries.
asio::awaitable<response> finish_session(fetch_sessions& sessions, session_step step,
                                         read_round round, int32_t id, int32_t epoch, bool by_id,
                                         std::string client) {
  response resp;
  resp.session_id = fetch_session_none;
  if (step.how == session_step::mode::sessionless) {
    lay_out(step.plan, round, nullptr, resp);
    co_return resp;
  }
  if (step.how == session_step::mode::create) {
    std::vector<fetch_session_partition> cached = step.plan;
    for (size_t i = 0; i < cached.size(); ++i) {
      cached[i].high_watermark = round.results[i].high_watermark;
      cached[i].log_start_offset = round.results[i].log_start_offset;
    }
    auto executor = co_await asio::this_coro::executor;
    const unsigned here = sessions.shard_running(executor).value_or(0);
    auto call = sessions.run_on(
        here, [cached = std::move(cached), by_id, now = now_ms()](fetch_session_cache& c) mutable {
          return c.maybe_create(std::move(cached), by_id, false, now);
        });
    resp.session_id = co_await std::move(call);
    if (resp.session_id != fetch_session_none) {
      fetch_log()->debug("fetch session {} created for {}: {} partitions, topic ids {}",
                         resp.session_id, client, step.plan.size(), by_id);
    }
    lay_out(step.plan, round, nullptr, resp);
    co_return resp;
  }
  std::vector<fetch_session_key> keys;
  keys.reserve(step.plan.size());
  for (const auto& p : step.plan) keys.push_back(p.key);
  auto call = sessions.run_on(*step.owner, [id, next = step.next_epoch, keys = std::move(keys),
                                            results = round.results](fetch_session_cache& c) {
    return c.finish_incremental(id, next, keys, results);
  });
  auto finished = co_await std::move(call);
  if (finished.error != fetch_session_errc::none) {
    fetch_log()->debug("fetch session {} epoch {} from {}: {}", id, epoch, client,
                       describe(finished.error));
    resp.error_code = protocol::number(kafka_error(finished.error));
    if (finished.error == fetch_session_errc::invalid_epoch) resp.session_id = id;
    co_return resp;
  }
  resp.session_id = id;
  lay_out(step.plan, round, &finished.include, resp);
  fetch_log()->debug(
      "incremental fetch session {} epoch {} from {}: {} of {} partitions", id, epoch, client,
      std::count(finished.include.begin(), finished.include.end(), true), step.plan.size());
  co_return resp;
}

// Fetch v0-v3 read message formats 0/1 (protocol/legacy_records.h): each partition's records
// (file ranges of v2 batches) are read and converted down, from its fetch offset and within its
// partition_max_bytes, as Kafka 3.x did. Zero-copy is lost on this path only.
void convert_for_old_fetch(const protocol::fetch_request& req, int16_t version, response& resp,
                           const std::string& client) {
  const int8_t magic = protocol::fetch_message_format(version);
  for (auto& t : resp.responses) {
    for (auto& p : t.partitions) {
      if (p.records.is_null() || p.records.size() == 0) continue;
      int64_t fetch_offset = 0;
      int32_t max_bytes = INT32_MAX;
      for (const auto& rt : req.topics) {
        if (rt.topic != t.topic) continue;
        for (const auto& rp : rt.partitions) {
          if (rp.partition != p.partition_index) continue;
          fetch_offset = rp.fetch_offset;
          max_bytes = rp.partition_max_bytes;
        }
      }
      std::vector<uint8_t> bytes(p.records.size());
      size_t at = 0;
      bool read_ok = true;
      for (const auto& segment : p.records.segments()) {
        if (const auto* m = std::get_if<protocol::memory_range>(&segment)) {
          std::copy(m->data.begin(), m->data.end(), bytes.begin() + static_cast<ptrdiff_t>(at));
          at += m->data.size();
          continue;
        }
        const auto& f = std::get<protocol::file_range>(segment);
        size_t done = 0;
        while (done < static_cast<size_t>(f.length)) {
          ssize_t n = ::pread(f.fd, bytes.data() + at + done, static_cast<size_t>(f.length) - done,
                              f.position + static_cast<off_t>(done));
          if (n <= 0) {
            read_ok = false;
            break;
          }
          done += static_cast<size_t>(n);
        }
        at += done;
      }
      auto converted =
          read_ok ? protocol::downconvert_batches(bytes, magic, fetch_offset,
                                                  static_cast<size_t>(std::max(max_bytes, 0)))
                  : failure(protocol::batch_error{protocol::batch_errc::truncated, "short read"});
      if (!converted) {
        fetch_log()->error("fetch v{} from {}: converting {}-{} to message format {}: {}", version,
                           client, t.topic, p.partition_index, magic, converted.error().message);
        p.error_code = protocol::number(protocol::error_code::kafka_storage_error);
        p.records = protocol::records_data::empty();
        continue;
      }
      metrics::count_fetch_conversion(metrics::entries_in_message_set(*converted));
      p.records = protocol::records_data::owned(std::move(*converted));
    }
  }
}

}  // namespace

asio::awaitable<handler_outcome> fetch(request_context& ctx) {
  auto decoded = decode_request<protocol::fetch_request>(ctx);
  if (!decoded) co_return close_connection{"malformed Fetch request: " + decoded.error().message};
  auto req = std::make_shared<const protocol::fetch_request>(std::move(*decoded));
  const broker_context& broker = *ctx.broker;
  fetch_sessions& sessions = *broker.fetch_session_caches;
  const bool by_id = ctx.version() >= 13;

  auto begin = begin_session(sessions, req, by_id, ctx.client_address);
  auto step = co_await std::move(begin);
  if (step.error != fetch_session_errc::none) {
    fetch_log()->debug("fetch session {} epoch {} from {}: {}", req->session_id, req->session_epoch,
                       ctx.client_address, describe(step.error));
    response resp;
    resp.error_code = protocol::number(kafka_error(step.error));
    resp.session_id = fetch_session_none;
    co_return respond(ctx, resp);
  }
  auto read = read_with_long_poll(broker, step.plan, by_id, req->max_wait_ms, req->min_bytes,
                                  req->max_bytes, ctx.client_address);
  auto round = co_await std::move(read);
  auto finish = finish_session(sessions, std::move(step), std::move(round), req->session_id,
                               req->session_epoch, by_id, ctx.client_address);
  auto resp = co_await std::move(finish);
  if (protocol::fetch_message_format(ctx.version()) < 2)
    convert_for_old_fetch(*req, ctx.version(), resp, ctx.client_address);
  uint64_t record_bytes = 0;
  for (const auto& t : resp.responses)
    for (const auto& p : t.partitions) record_bytes += p.records.is_null() ? 0 : p.records.size();
  metrics::count_fetch_bytes(record_bytes);
  co_return respond(ctx, resp);
}

}  // namespace sluice::server::handlers
