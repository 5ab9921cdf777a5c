#include "cluster/file_metadata_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "cluster/tests/test_util.h"
#include "protocol/batch_builder.h"
#include "protocol/record_batch.h"
#include "storage/tests/fault_file_system.h"

namespace sluice::cluster {
namespace {

using namespace testing;
namespace fs = std::filesystem;

class file_metadata_log_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "sluice-cluster-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir = templ;
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string segment_path() const {
    return (fs::path(dir) / metadata_partition_dir / "00000000000000000000.log").string();
  }
  std::unique_ptr<file_metadata_log> open_log() {
    auto log = file_metadata_log::open(dir);
    EXPECT_TRUE(log) << log.error().message;
    return log ? std::move(*log) : nullptr;
  }
  std::vector<uint8_t> read_segment() const {
    std::ifstream in(segment_path(), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  void write_segment(const std::vector<uint8_t>& bytes) const {
    std::ofstream out(segment_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }
  // Creates one topic per name, each in its own append (so each is one batch).
  void populate(const std::vector<std::string>& names) {
    auto log = open_log();
    harness h(*log);
    for (const auto& name : names) create_ok(h.ctl, topic(name, 2, {{"retention.ms", "1000"}}));
  }

  std::string dir;
};

TEST_F(file_metadata_log_test, lives_in_the_metadata_partition_directory) {
  populate({"a"});
  EXPECT_TRUE(fs::exists(segment_path()));
  auto cfg = make_config({{"log.dirs", "/data/a,/data/b"}});
  EXPECT_EQ(metadata_log_directory(cfg), "/data/a");
  cfg = make_config({{"log.dirs", "/data/a"}, {"metadata.log.dir", "/meta"}});
  EXPECT_EQ(metadata_log_directory(cfg), "/meta");
}

TEST_F(file_metadata_log_test, restart_keeps_topics_ids_and_configs) {
  model::uuid id;
  {
    auto log = open_log();
    harness h(*log);
    id = create_ok(h.ctl, topic("orders", 3, {{"cleanup.policy", "compact"}})).topic_id;
    create_ok(h.ctl, topic("gone"));
    ASSERT_TRUE(h.ctl.delete_topics({topic_ref{"gone", {}}})[0]);
    ASSERT_TRUE(h.ctl.incremental_alter_configs(
        {config_change{{config_resource_type::broker, ""},
                       {{"log.retention.ms", config_op::set, "60000"}}}},
        false)[0]);
  }
  auto log = open_log();
  EXPECT_EQ(log->recovery().truncated_bytes, 0u);
  harness h(*log);
  auto img = h.image_now();
  auto orders = img->find_topic("orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->id, id);
  EXPECT_EQ(orders->partition_count(), 3);
  EXPECT_EQ(orders->configs, (config_map{{"cleanup.policy", "compact"}}));
  EXPECT_EQ(img->find_topic("gone"), nullptr);
  EXPECT_EQ(img->broker_configs("").at("log.retention.ms"), "60000");
  ASSERT_EQ(h.ctl.take_deleted_topics().size(), 1u);
  // Appends continue after the recovered records.
  create_ok(h.ctl, topic("later"));
  EXPECT_EQ(h.image_now()->offset().value() + 1, log->next_offset().value());
}

TEST_F(file_metadata_log_test, torn_last_batch_is_dropped_on_open) {
  populate({"first", "second"});
  auto bytes = read_segment();
  auto first = protocol::read_batch_header(bytes);
  ASSERT_TRUE(first);
  const size_t first_size = first->size_bytes();
  ASSERT_GT(bytes.size(), first_size);
  // Every cut inside the second batch, and garbage after it, leaves exactly the first topic.
  for (size_t cut : {first_size + 1, first_size + 30, first_size + 61, bytes.size() - 1}) {
    write_segment(std::vector<uint8_t>(bytes.begin(), bytes.begin() + cut));
    auto log = open_log();
    EXPECT_EQ(log->recovery().valid_bytes, first_size) << "cut at " << cut;
    EXPECT_EQ(log->recovery().truncated_bytes, cut - first_size);
    EXPECT_EQ(fs::file_size(segment_path()), first_size) << "the torn tail is cut from the file";
    EXPECT_EQ(log->next_offset(), model::offset(2));
    harness h(*log);
    EXPECT_NE(h.image_now()->find_topic("first"), nullptr);
    EXPECT_EQ(h.image_now()->find_topic("second"), nullptr);
  }
}

TEST_F(file_metadata_log_test, flipped_byte_in_last_batch_is_a_torn_write) {
  populate({"first", "second"});
  auto bytes = read_segment();
  bytes[bytes.size() - 3] ^= 0x40;  // inside the last record's value: caught by the CRC
  write_segment(bytes);
  auto log = open_log();
  EXPECT_GT(log->recovery().truncated_bytes, 0u);
  harness h(*log);
  EXPECT_NE(h.image_now()->find_topic("first"), nullptr);
  EXPECT_EQ(h.image_now()->find_topic("second"), nullptr);
}

TEST_F(file_metadata_log_test, whole_batch_that_does_not_decode_stops_start_up) {
  // A batch with a valid CRC holding a record type this build does not know: not a torn write,
  // so open() must fail instead of dropping it.
  populate({"first"});
  auto bytes = read_segment();
  protocol::batch_builder builder;
  builder.base_offset(2);
  builder.partition_leader_epoch(0);
  std::vector<uint8_t> key = {0, 99, 0, 0};
  std::vector<uint8_t> value = {1, 2, 3};
  builder.add(0, std::span<const uint8_t>(key), std::span<const uint8_t>(value));
  auto foreign = builder.build();
  bytes.insert(bytes.end(), foreign.begin(), foreign.end());
  write_segment(bytes);
  auto log = file_metadata_log::open(dir);
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().code, errc::log_corrupt);
  EXPECT_NE(log.error().message.find("99"), std::string::npos) << log.error().message;
}

TEST_F(file_metadata_log_test, record_that_contradicts_the_image_stops_start_up) {
  populate({"first"});
  auto bytes = read_segment();
  model::uuid unknown;
  unknown.bytes[0] = 7;
  std::vector<metadata_record> records = {topic_deleted_record{unknown, "never-created"}};
  auto batch = encode_batch(model::offset(2), records, 0);
  bytes.insert(bytes.end(), batch.begin(), batch.end());
  write_segment(bytes);
  auto log = open_log();
  auto cfg = make_config();
  image_publisher images;
  controller ctl(*log, images, cfg);
  auto started = ctl.start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, errc::log_corrupt);
  EXPECT_EQ(images.current()->offset(), model::offset(-1)) << "nothing half-replayed is published";
}

TEST_F(file_metadata_log_test, failed_fsync_fails_the_request_and_stops_writes) {
  storage::testing::fault_file_system faults;
  {
    auto opened = file_metadata_log::open(dir, faults);
    ASSERT_TRUE(opened) << opened.error().message;
    harness h(**opened);
    create_ok(h.ctl, topic("durable"));
    faults.fail_next_syncs(1);
    auto results = h.ctl.create_topics({topic("lost")}, false);
    EXPECT_EQ(error_of(results[0]), errc::log_io);
    EXPECT_EQ(h.image_now()->find_topic("lost"), nullptr);
    EXPECT_EQ(error_of(h.ctl.create_topics({topic("later")}, false)[0]), errc::log_io)
        << "after a failed fdatasync the log takes no more writes";
    faults.crash();
  }
  auto log = open_log();
  harness h(*log);
  EXPECT_NE(h.image_now()->find_topic("durable"), nullptr);
  EXPECT_EQ(h.image_now()->find_topic("lost"), nullptr);
  create_ok(h.ctl, topic("after-restart"));
}

}  // namespace
}  // namespace sluice::cluster
