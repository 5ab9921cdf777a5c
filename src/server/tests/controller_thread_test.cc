// on_controller: the call runs on the controller's thread, the caller resumes on its own shard,
// and what the call captured by value lives until it has run.

#include "server/controller_thread.h"

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <future>
#include <thread>

#include "cluster/memory_metadata_log.h"

namespace sluice::server {
namespace {

config::broker_config make_config() {
  auto cfg = config::broker_config::from_properties({});
  SLUICE_ASSERT(cfg.has_value(), "test config: {}", cfg.error().message);
  return std::move(*cfg);
}

struct outcome {
  std::thread::id call_thread;
  std::thread::id resumed_thread;
  std::vector<cluster::cresult<cluster::created_topic>> results;
};

asio::awaitable<void> create_from_shard(controller_thread& ct, cluster::controller* ctl,
                                        std::promise<outcome>& done) {
  outcome out;
  std::vector<cluster::new_topic> topics{{"a", 2, 1, {}, {}}, {"b!", 1, 1, {}, {}}};
  auto call = on_controller(ct.executor(), ctl, [topics, &out](cluster::controller& c) {
    out.call_thread = std::this_thread::get_id();
    return c.create_topics(topics, false);
  });
  out.results = co_await std::move(call);
  out.resumed_thread = std::this_thread::get_id();
  done.set_value(std::move(out));
}

TEST(controller_thread, call_runs_on_the_controller_and_resumes_on_the_shard) {
  auto config = make_config();
  cluster::memory_metadata_log log;
  cluster::image_publisher images;
  cluster::controller ctl(log, images, config);
  ASSERT_TRUE(ctl.start().has_value());
  controller_thread ct;
  ct.start();

  asio::io_context shard(1);
  auto work = asio::make_work_guard(shard);
  std::thread shard_thread([&] { shard.run(); });
  const std::thread::id shard_id = shard_thread.get_id();
  std::promise<outcome> done;
  auto future = done.get_future();
  asio::co_spawn(shard, create_from_shard(ct, &ctl, done), asio::detached);
  outcome out = future.get();
  work.reset();
  shard_thread.join();
  ct.stop();

  EXPECT_NE(out.call_thread, shard_id);
  EXPECT_NE(out.call_thread, std::this_thread::get_id());
  EXPECT_EQ(out.resumed_thread, shard_id);
  ASSERT_EQ(out.results.size(), 2u);
  EXPECT_TRUE(out.results[0].has_value());
  ASSERT_FALSE(out.results[1].has_value());
  EXPECT_EQ(out.results[1].error().code, cluster::errc::invalid_topic_name);
  EXPECT_EQ(images.current()->topics().size(), 1u);
}

}  // namespace
}  // namespace sluice::server
