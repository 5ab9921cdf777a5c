// Compaction checked against a model (key -> latest offset) over random seeded workloads.

#include "storage/compaction.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "protocol/record_batch.h"
#include "storage/tests/fault_file_system.h"
#include "storage/tests/test_util.h"

namespace sluice::storage {
using testing::temp_dir;

namespace {

struct stored_record {
  std::string key;
  std::optional<std::string> value;
  int64_t timestamp_ms = 0;
  auto operator<=>(const stored_record&) const = default;
};

// Every record the log serves, by offset, decoded from the batches.
std::map<int64_t, stored_record> records_of(log& l) {
  std::map<int64_t, stored_record> out;
  for (const auto& batch : testing::split_batches(testing::read_all(l, l.log_start_offset()))) {
    auto decoded = protocol::read_records(batch);
    SLUICE_ASSERT(decoded.has_value(), "undecodable batch");
    SLUICE_ASSERT(protocol::batch_crc_matches(batch), "bad CRC after compaction");
    for (const auto& r : decoded->records) {
      stored_record s;
      s.key.assign(r.key->begin(), r.key->end());
      if (r.value) s.value = std::string(r.value->begin(), r.value->end());
      s.timestamp_ms = decoded->header.base_timestamp + r.timestamp_delta;
      auto [it, fresh] = out.emplace(decoded->header.base_offset + r.offset_delta, s);
      SLUICE_ASSERT(fresh, "offset {} served twice", it->first);
    }
  }
  return out;
}

// What compaction up to `clean_end` must leave: below it, the latest record of each key (over
// everything below clean_end), minus tombstones older than the horizon; from it on, everything.
std::map<int64_t, stored_record> model_of(const std::map<int64_t, stored_record>& written,
                                          int64_t clean_end, int64_t horizon_ms) {
  std::map<std::string, int64_t> latest;
  for (const auto& [offset, r] : written) {
    if (offset < clean_end) latest[r.key] = offset;
  }
  std::map<int64_t, stored_record> out;
  for (const auto& [offset, r] : written) {
    if (offset >= clean_end) {
      out.emplace(offset, r);
      continue;
    }
    if (latest[r.key] != offset) continue;
    if (!r.value && r.timestamp_ms < horizon_ms) continue;
    out.emplace(offset, r);
  }
  return out;
}

}  // namespace

class compaction_model : public ::testing::TestWithParam<uint64_t> {};

TEST_P(compaction_model, matches_a_map_of_latest_offsets) {
  const uint64_t seed = GetParam();
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  std::mt19937_64 rng(seed);
  temp_dir dir(true);
  testing::fault_file_system fs;
  fs.set_real_syncs(false);
  int64_t now = 1'000'000;
  log_config config;
  config.cleanup_compact = true;
  config.cleanup_delete = false;
  config.segment_bytes = 512 + rng() % 2048;
  config.delete_retention_ms = 5'000;
  config.file_delete_delay_ms = 0;
  auto opened = log::open(fs, dir / "c-0", {"c", model::partition_id(0)}, config,
                          testing::test_options(&now));
  ASSERT_TRUE(opened.has_value());
  auto& l = **opened;
  std::map<int64_t, stored_record> written;
  const int keys = 3 + static_cast<int>(rng() % 30);
  size_t removed = 0;
  for (int round = 0; round < 4; ++round) {
    int batches = 20 + static_cast<int>(rng() % 40);
    for (int b = 0; b < batches; ++b) {
      std::vector<testing::kv> records;
      int count = 1 + static_cast<int>(rng() % 5);
      for (int i = 0; i < count; ++i) {
        testing::kv r{fmt::format("key{}", rng() % keys), std::nullopt};
        if (rng() % 6 != 0) r.value = fmt::format("v{}", rng());
        records.push_back(r);
      }
      auto batch = testing::make_kv_batch(records, now);
      auto appended = l.append(batch, model::leader_epoch(0));
      ASSERT_TRUE(appended.has_value());
      for (int i = 0; i < count; ++i) {
        written[appended->base_offset.value() + i] = {records[i].key, records[i].value, now};
      }
      now += static_cast<int64_t>(rng() % 200);
    }
    auto result = compact(l, now, compaction_budget{}, true);
    ASSERT_TRUE(result.has_value()) << result.error().describe();
    removed += result->records_removed;
    auto expected = model_of(written, l.cleaned_offset().value(), now - config.delete_retention_ms);
    auto served = records_of(l);
    ASSERT_EQ(served.size(), expected.size()) << "round " << round;
    ASSERT_TRUE(served == expected) << "round " << round;
    written = expected;  // removed records are gone for good
    ASSERT_TRUE(l.remove_deleted_segments(now).has_value());
  }
  EXPECT_GT(removed, 0u);
  EXPECT_GT(l.cleaned_offset(), model::offset(0));
  // The compacted log reopens (indexes rebuilt from the swapped-in segments) unchanged.
  auto before = records_of(l);
  ASSERT_TRUE(l.close().has_value());
  auto reopened = log::open(fs, dir / "c-0", {"c", model::partition_id(0)}, config,
                            testing::test_options(&now, false));
  ASSERT_TRUE(reopened.has_value());
  EXPECT_TRUE(records_of(**reopened) == before);
}

INSTANTIATE_TEST_SUITE_P(seeds, compaction_model, ::testing::Range<uint64_t>(1, 21));

TEST(compaction, dirty_ratio_and_lag_gate_the_pass) {
  temp_dir dir(true);
  int64_t now = 1'000'000;
  log_config config;
  config.cleanup_compact = true;
  config.segment_bytes = 600;
  config.min_compaction_lag_ms = 10'000;
  auto l = std::move(*log::open(posix_file_system(), dir / "c-0", {"c", model::partition_id(0)},
                                config, testing::test_options(&now)));
  for (int i = 0; i < 30; ++i) {
    auto b = testing::make_kv_batch({{"same", fmt::format("value{}", i)}}, now);
    ASSERT_TRUE(l->append(b, model::leader_epoch(0)).has_value());
  }
  // Everything is younger than min.compaction.lag.ms: nothing is cleanable.
  EXPECT_EQ(cleanable_dirty_ratio(*l, now), 0);
  EXPECT_FALSE(compact(*l, now, compaction_budget{})->ran);
  now += 20'000;
  EXPECT_DOUBLE_EQ(cleanable_dirty_ratio(*l, now), 1.0);
  auto r = compact(*l, now, compaction_budget{});
  ASSERT_TRUE(r.has_value() && r->ran);
  EXPECT_GT(r->records_removed, 0u);
  EXPECT_EQ(cleanable_dirty_ratio(*l, now), 0);
}

TEST(compaction, interrupted_swap_is_completed_at_open) {
  temp_dir dir(true);
  int64_t now = 1'000'000;
  log_config config;
  config.segment_bytes = 600;
  std::string path = dir / "c-0";
  std::vector<uint8_t> first_segment;
  {
    auto l = std::move(*log::open(posix_file_system(), path, {"c", model::partition_id(0)}, config,
                                  testing::test_options(&now)));
    for (int i = 0; i < 20; ++i) {
      auto b = testing::make_kv_batch({{"k", fmt::format("v{}", i)}}, now);
      ASSERT_TRUE(l->append(b, model::leader_epoch(0)).has_value());
    }
    ASSERT_TRUE(l->close().has_value());
  }
  // A finished rewrite of the first segment that keeps only its last batch.
  auto original = testing::read_file_bytes(path + "/00000000000000000000.log");
  auto batches = testing::split_batches(original);
  testing::write_file(path + "/00000000000000000000.log.swap", batches.back());
  auto l = std::move(*log::open(posix_file_system(), path, {"c", model::partition_id(0)}, config,
                                testing::test_options(&now, true)));
  EXPECT_FALSE(std::filesystem::exists(path + "/00000000000000000000.log.swap"));
  EXPECT_EQ(testing::read_file_bytes(path + "/00000000000000000000.log"), batches.back());
  EXPECT_EQ(testing::split_batches(testing::read_all(*l)).front(), batches.back());
}

}  // namespace sluice::storage
