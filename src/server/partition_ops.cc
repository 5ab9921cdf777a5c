#include "server/partition_ops.h"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "base/assert.h"
#include "protocol/big_endian.h"
#include "protocol/crc32c.h"
#include "protocol/legacy_records.h"
#include "protocol/record_batch.h"
#include "server/http/counters.h"

namespace sluice::server {

namespace {

partition_error storage_failure(const storage::error& e) {
  if (e.code == storage::errc::offset_out_of_range)
    return {partition_errc::offset_out_of_range, e.describe()};
  if (e.code == storage::errc::record_too_large)
    return {partition_errc::message_too_large, e.describe()};
  if (e.code == storage::errc::corrupt || e.code == storage::errc::invalid_argument)
    return {partition_errc::corrupt_message, e.describe()};
  if (e.code == storage::errc::out_of_order_sequence)
    return {partition_errc::out_of_order_sequence, e.message};
  if (e.code == storage::errc::invalid_producer_epoch)
    return {partition_errc::invalid_producer_epoch, e.message};
  return {partition_errc::storage_error, e.describe()};
}

partition_error not_hosted(const model::topic_partition& tp) {
  return {partition_errc::not_hosted,
          fmt::format("{}-{} has no log on this broker yet", tp.topic, tp.partition.value())};
}

// The byte that holds a batch's magic (docs/format/record-batch.md): after base offset (8),
// batch length (4) and partition leader epoch (4).
constexpr size_t magic_position = 16;

partition_error batch_failure(const protocol::batch_error& e, std::span<const uint8_t> batch) {
  using protocol::batch_errc;
  switch (e.code) {
    case batch_errc::bad_magic:
      // Kafka answers an old format (magic 0 or 1) on Produce v3+ with
      // UNSUPPORTED_FOR_MESSAGE_FORMAT; any other magic byte is a corrupt batch.
      if (batch.size() > magic_position && batch[magic_position] < 2)
        return {partition_errc::unsupported_format, e.message};
      return {partition_errc::corrupt_message, e.message};
    case batch_errc::truncated:
    case batch_errc::bad_length:
    case batch_errc::bad_crc:
    case batch_errc::bad_compression:
      return {partition_errc::corrupt_message, e.message};
    case batch_errc::bad_record_count:
    case batch_errc::bad_record:
    case batch_errc::too_large:
      return {partition_errc::invalid_record, e.message};
  }
  return {partition_errc::corrupt_message, e.message};
}

}  // namespace

result<void, partition_error> validate_produce_records(std::span<const uint8_t> records,
                                                       int64_t batch_bytes_max, bool zstd_allowed,
                                                       batch_timestamps* timestamps) {
  if (records.empty()) {
    return failure(partition_error{partition_errc::invalid_record,
                                   "a Produce request needs one record batch per partition"});
  }
  auto header = protocol::read_batch_header(records);
  if (!header) return failure(batch_failure(header.error(), records));
  size_t size = header->size_bytes();
  if (size > records.size()) {
    return failure(
        partition_error{partition_errc::corrupt_message,
                        fmt::format("batch of {} bytes, {} bytes sent", size, records.size())});
  }
  if (static_cast<int64_t>(size) > batch_bytes_max) {
    return failure(partition_error{
        partition_errc::message_too_large,
        fmt::format("batch of {} bytes is above max.message.bytes {}", size, batch_bytes_max)});
  }
  if (size < records.size()) {
    // Kafka's rule for Produce v3 and later (one batch per partition), which is also what makes
    // an idempotent producer's retry map to exactly one earlier append.
    return failure(
        partition_error{partition_errc::invalid_record,
                        "Produce requests may contain exactly one record batch per partition"});
  }
  // As in Kafka, the request-level checks (this one) come before the batch is decoded.
  if (!zstd_allowed && header->codec() == protocol::compression_codec::zstd) {
    return failure(
        partition_error{partition_errc::unsupported_compression, "zstd needs Produce v7 or later"});
  }
  protocol::record_timestamps seen;
  auto valid = protocol::validate_batch(records, true,
                                        protocol::batch_decompressed_bytes_max_default, &seen);
  if (!valid) return failure(batch_failure(valid.error(), records));
  if (timestamps != nullptr) {
    timestamps->records = seen;
    if (!valid->has_log_append_time() && valid->max_timestamp != seen.max)
      timestamps->max_timestamp_fix = seen.max;
  }
  if (header->producer_id >= 0 && header->base_sequence < 0) {
    return failure(partition_error{
        partition_errc::invalid_record,
        fmt::format("batch of producer {} has no sequence number", header->producer_id)});
  }
  return {};
}

std::optional<std::string> timestamp_out_of_bounds(const protocol::record_timestamps& ts,
                                                   int64_t now_ms, int64_t before_max_ms,
                                                   int64_t after_max_ms) {
  // Differences, not sums: the limits default to Long.MAX_VALUE.
  if (ts.min != INT64_MAX && ts.min >= 0 && now_ms - ts.min > before_max_ms) {
    return fmt::format("timestamp {} is more than message.timestamp.before.max.ms {} before {}",
                       ts.min, before_max_ms, now_ms);
  }
  if (ts.max >= 0 && ts.max - now_ms > after_max_ms) {
    return fmt::format("timestamp {} is more than message.timestamp.after.max.ms {} after {}",
                       ts.max, after_max_ms, now_ms);
  }
  return std::nullopt;
}

result<std::vector<uint8_t>, partition_error> upconvert_produce_records(
    std::span<const uint8_t> message_set) {
  auto converted = protocol::upconvert_message_set(message_set);
  if (!converted) {
    if (converted.error().code == protocol::batch_errc::bad_magic)
      return failure(partition_error{partition_errc::corrupt_message, converted.error().message});
    return failure(batch_failure(converted.error(), message_set));
  }
  metrics::count_produce_conversion(metrics::records_in_batches(*converted));
  return std::move(*converted);
}

namespace {

// On the owner shard: appends `item` and calls `deliver` with the outcome, at once or (when
// flush.messages asks for it) once the group-commit fdatasync covered the batch.
template <typename Deliver>
void append_on_owner(partition_registry& registry, storage::log* l, const append_item& item,
                     Deliver deliver) {
  if (l == nullptr) return deliver(produce_outcome{not_hosted(item.tp), {}, {}});
  int64_t append_time_ms = -1;
  if (item.log_append_time) {
    append_time_ms = l->now_ms();
    stamp_log_append_time(item.records, append_time_ms);
  }
  auto appended = l->append(item.records, item.epoch);
  if (!appended) return deliver(produce_outcome{storage_failure(appended.error()), {}, {}});
  if (appended->duplicate) {
    if (item.log_append_time) append_time_ms = appended->duplicate_max_timestamp;
    return deliver(produce_outcome{std::nullopt, appended->base_offset, l->log_start_offset(),
                                   append_time_ms});
  }
  metrics::count_produce_append(
      item.records.size(),
      static_cast<uint64_t>(appended->last_offset.value() - appended->base_offset.value() + 1));
  // A single node: an append is committed once it is in the log.
  l->set_high_watermark(l->log_end_offset());
  registry.notify_append(item.tp);
  produce_outcome out{std::nullopt, appended->base_offset, l->log_start_offset(), append_time_ms};
  if (!l->flush_due()) return deliver(std::move(out));
  l->sync(appended->last_offset + 1,
          [out = std::move(out), deliver = std::move(deliver)](storage::sresult<void> r) mutable {
            if (!r) out = produce_outcome{storage_failure(r.error()), {}, {}};
            deliver(std::move(out));
          });
}

// The outcomes of one append_all, filled on the caller's shard.
struct append_all_state {
  append_all_state(asio::any_io_executor ex, size_t n) : timer(ex), results(n), pending(n) {}
  asio::steady_timer timer;
  std::vector<produce_outcome> results;
  size_t pending;
};

}  // namespace

void stamp_log_append_time(std::span<uint8_t> records, int64_t now_ms) {
  // Byte positions in a v2 batch (docs/format/record-batch.md); the CRC covers attributes on.
  constexpr size_t length_at = 8, crc_at = 17, attributes_at = 21, max_timestamp_at = 35;
  constexpr int16_t log_append_time_bit = 0x08;
  size_t pos = 0;
  while (pos < records.size()) {
    uint8_t* batch = records.data() + pos;
    const size_t size =
        static_cast<size_t>(protocol::load_big_endian<int32_t>(batch + length_at)) + 12;
    SLUICE_ASSERT(size > max_timestamp_at + 8 && pos + size <= records.size(),
                  "stamping an unvalidated batch of {} bytes at {}", size, pos);
    auto attributes = protocol::load_big_endian<int16_t>(batch + attributes_at);
    protocol::store_big_endian<int16_t>(batch + attributes_at,
                                        static_cast<int16_t>(attributes | log_append_time_bit));
    protocol::store_big_endian<int64_t>(batch + max_timestamp_at, now_ms);
    uint32_t crc = protocol::crc32c({batch + attributes_at, size - attributes_at});
    protocol::store_big_endian<uint32_t>(batch + crc_at, crc);
    pos += size;
  }
}

asio::awaitable<std::vector<produce_outcome>> append_all(partition_registry& registry,
                                                         std::vector<append_item> items) {
  auto executor = co_await asio::this_coro::executor;
  auto state = std::make_shared<append_all_state>(executor, items.size());
  state->timer.expires_at(asio::steady_timer::time_point::max());
  for (size_t i = 0; i < items.size(); ++i) {
    registry.post_to_owner(items[i].tp, [&registry, state, i, item = items[i]](storage::log* l) {
      append_on_owner(registry, l, item, [state, i](produce_outcome out) {
        asio::post(state->timer.get_executor(), [state, i, out = std::move(out)]() mutable {
          state->results[i] = std::move(out);
          if (--state->pending == 0) state->timer.cancel();
        });
      });
    });
  }
  while (state->pending > 0) {
    asio::error_code ec;
    auto wait = state->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(wait);
  }
  co_return std::move(state->results);
}

asio::awaitable<fetch_outcome> read_records(partition_registry& registry, model::topic_partition tp,
                                            model::offset offset, uint64_t max_bytes,
                                            bool min_one_batch) {
  return registry.run_on_owner(
      tp, [tp, offset, max_bytes, min_one_batch](storage::log* l) -> fetch_outcome {
        if (l == nullptr) return {not_hosted(tp), {}, {}, {}};
        auto read = l->read(offset, max_bytes, l->high_watermark(), min_one_batch);
        if (!read) return {storage_failure(read.error()), {}, {}, {}};
        return {std::nullopt, std::move(read->range), read->high_watermark, read->log_start_offset};
      });
}

asio::awaitable<void> register_waiter(
    partition_registry& registry, std::vector<std::pair<model::topic_partition, model::offset>> tps,
    std::shared_ptr<fetch_waiter> waiter) {
  for (auto& entry : tps) {
    model::topic_partition tp = entry.first;
    model::offset offset = entry.second;
    auto call = registry.run_on_owner(tp, [&registry, tp, offset, waiter](storage::log*) {
      registry.add_waiter(tp, offset, waiter);
      return true;
    });
    co_await std::move(call);
  }
}

namespace {

offset_lookup lookup_on_owner(storage::log* l, int64_t timestamp) {
  switch (timestamp) {
    case latest_timestamp:
      return {std::nullopt, l->high_watermark().value(), -1};
    case earliest_timestamp:
    case earliest_local_timestamp:
      return {std::nullopt, l->log_start_offset().value(), -1};
    case max_timestamp: {
      int64_t largest = -1;
      for (const auto& s : l->segments()) {
        auto ts = s->largest_timestamp();
        if (!ts) return {storage_failure(ts.error())};
        largest = std::max(largest, ts->value());
      }
      if (largest < 0) return offset_lookup{};
      // The first record at the largest timestamp: no record has a larger one.
      timestamp = largest;
      break;
    }
    default:
      if (timestamp < 0) return offset_lookup{};
  }
  auto found = l->offset_for_timestamp(model::timestamp_ms(timestamp));
  if (!found) return {storage_failure(found.error())};
  if (!*found || (*found)->offset >= l->high_watermark()) return offset_lookup{};
  return {std::nullopt, (*found)->offset.value(), (*found)->timestamp.value()};
}

}  // namespace

asio::awaitable<offset_lookup> lookup_offset(partition_registry& registry,
                                             model::topic_partition tp, int64_t timestamp) {
  return registry.run_on_owner(tp, [tp, timestamp](storage::log* l) -> offset_lookup {
    if (l == nullptr) return offset_lookup{not_hosted(tp)};
    return lookup_on_owner(l, timestamp);
  });
}

namespace {

legacy_offsets legacy_on_owner(storage::log* l, int64_t timestamp, int32_t max_count,
                               bool from_consumer) {
  std::vector<std::pair<int64_t, int64_t>> offset_times;  // (offset, time), ascending
  const auto& segments = l->segments();
  for (const auto& s : segments) {
    auto ts = s->largest_timestamp();
    if (!ts) return {storage_failure(ts.error()), {}};
    offset_times.emplace_back(std::max(s->base_offset(), l->log_start_offset()).value(),
                              ts->value());
  }
  if (!segments.back()->empty())
    offset_times.emplace_back(l->log_end_offset().value(), l->now_ms());
  int64_t start = -1;
  if (timestamp == latest_timestamp) {
    start = static_cast<int64_t>(offset_times.size()) - 1;
  } else if (timestamp == earliest_timestamp) {
    start = 0;
  } else {
    start = static_cast<int64_t>(offset_times.size()) - 1;
    while (start >= 0 && offset_times[static_cast<size_t>(start)].second > timestamp) --start;
  }
  legacy_offsets out;
  for (int64_t i = start; i >= 0 && static_cast<int64_t>(out.offsets.size()) < max_count; --i)
    out.offsets.push_back(offset_times[static_cast<size_t>(i)].first);
  if (from_consumer) {
    const int64_t hw = l->high_watermark().value();
    if (std::any_of(out.offsets.begin(), out.offsets.end(), [&](int64_t o) { return o > hw; })) {
      std::erase_if(out.offsets, [&](int64_t o) { return o > hw; });
      out.offsets.insert(out.offsets.begin(), hw);
    }
  }
  return out;
}

}  // namespace

asio::awaitable<legacy_offsets> lookup_legacy_offsets(partition_registry& registry,
                                                      model::topic_partition tp, int64_t timestamp,
                                                      int32_t max_count, bool from_consumer) {
  return registry.run_on_owner(
      tp, [tp, timestamp, max_count, from_consumer](storage::log* l) -> legacy_offsets {
        if (l == nullptr) return legacy_offsets{not_hosted(tp), {}};
        return legacy_on_owner(l, timestamp, max_count, from_consumer);
      });
}

}  // namespace sluice::server
