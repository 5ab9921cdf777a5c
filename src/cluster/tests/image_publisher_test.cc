#include "cluster/image_publisher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace sluice::cluster {
namespace {

std::shared_ptr<const image> image_at(const image& base, int64_t offset) {
  image_builder builder(base);
  auto applied = builder.apply(
      logged_record{model::offset(offset),
                    config_set_record{config_resource_type::broker, "", "log.retention.ms", "1"}});
  EXPECT_TRUE(applied);
  return std::move(builder).build();
}

TEST(image_publisher, starts_empty_and_returns_what_was_published) {
  image_publisher publisher;
  EXPECT_EQ(publisher.current()->offset(), model::offset(-1));
  EXPECT_TRUE(publisher.current()->topics().empty());
  auto next = image_at(*publisher.current(), 0);
  publisher.publish(next);
  EXPECT_EQ(publisher.current(), next);
}

TEST(image_publisher, readers_on_other_threads_see_offsets_only_move_forward) {
  image_publisher publisher;
  std::atomic<bool> done{false};
  std::atomic<int> regressions{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      int64_t last = -1;
      while (!done.load()) {
        auto img = publisher.current();
        if (img->offset().value() < last) regressions.fetch_add(1);
        last = img->offset().value();
      }
    });
  }
  for (int64_t offset = 0; offset < 2000; ++offset)
    publisher.publish(image_at(*publisher.current(), offset));
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(regressions.load(), 0);
  EXPECT_EQ(publisher.current()->offset(), model::offset(1999));
}

}  // namespace
}  // namespace sluice::cluster
