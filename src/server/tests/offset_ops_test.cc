#include "server/offset_ops.h"

#include <gtest/gtest.h>

namespace sluice::server {
namespace {

using storage::epoch_entry;
using E = model::leader_epoch;
using O = model::offset;

TEST(offset_ops, current_leader_epoch_is_fenced_as_kafka_does) {
  EXPECT_EQ(check_current_leader_epoch(-1, 5), epoch_check::ok);  // not given
  EXPECT_EQ(check_current_leader_epoch(5, 5), epoch_check::ok);
  EXPECT_EQ(check_current_leader_epoch(4, 5), epoch_check::fenced);
  EXPECT_EQ(check_current_leader_epoch(6, 5), epoch_check::unknown);
}

TEST(offset_ops, current_leader_epoch_counts_from_the_log_end_before_its_first_batch) {
  std::vector<epoch_entry> entries{{E(0), O(0)}, {E(2), O(10)}};
  // Leader epoch 4 has written nothing yet: epoch 2 ends at the log end, where 4 starts.
  EXPECT_EQ(leader_epoch_end_offset(entries, E(4), E(2), O(25)), (epoch_entry{E(2), O(25)}));
  EXPECT_EQ(leader_epoch_end_offset(entries, E(4), E(3), O(25)), (epoch_entry{E(2), O(25)}));
  EXPECT_EQ(leader_epoch_end_offset(entries, E(4), E(4), O(25)), (epoch_entry{E(4), O(25)}));
  EXPECT_EQ(leader_epoch_end_offset(entries, E(4), E(5), O(25)), std::nullopt);
  // The current epoch already in the cache: the cache's answers unchanged.
  EXPECT_EQ(leader_epoch_end_offset(entries, E(2), E(0), O(25)), (epoch_entry{E(0), O(10)}));
  EXPECT_EQ(leader_epoch_end_offset(entries, E(2), E(2), O(25)), (epoch_entry{E(2), O(25)}));
  EXPECT_EQ(leader_epoch_end_offset(entries, E(2), E(-1), O(25)), std::nullopt);
  // An empty log of leader epoch 0.
  EXPECT_EQ(leader_epoch_end_offset({}, E(0), E(0), O(0)), (epoch_entry{E(0), O(0)}));
}

TEST(offset_ops, delete_records_target_follows_kafka) {
  auto hw = O(100);
  EXPECT_EQ(*delete_records_target(40, hw, true), O(40));
  EXPECT_EQ(*delete_records_target(100, hw, true), O(100));
  EXPECT_EQ(*delete_records_target(delete_to_high_watermark, hw, true), O(100));
  EXPECT_EQ(*delete_records_target(0, hw, true), O(0));
  EXPECT_EQ(delete_records_target(101, hw, true).error().code, partition_errc::offset_out_of_range);
  EXPECT_EQ(delete_records_target(-2, hw, true).error().code, partition_errc::offset_out_of_range);
  // The policy is checked first, as Kafka does.
  EXPECT_EQ(delete_records_target(101, hw, false).error().code, partition_errc::policy_violation);
  EXPECT_EQ(delete_records_target(40, hw, false).error().code, partition_errc::policy_violation);
}

}  // namespace
}  // namespace sluice::server
