#pragma once

// Shared set-up for the cluster tests: a broker config, a metadata log and a started controller.

#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cluster/controller.h"
#include "cluster/memory_metadata_log.h"

namespace sluice::cluster {
// gtest prints error codes by name.
inline void PrintTo(errc code, std::ostream* os) {
  *os << to_string(code);
}
}  // namespace sluice::cluster

namespace sluice::cluster::testing {

inline config::broker_config make_config(const properties& props = {}) {
  auto cfg = config::broker_config::from_properties(props);
  SLUICE_ASSERT(cfg.has_value(), "test config: {}", cfg.error().message);
  return std::move(*cfg);
}

// A controller over a log of the caller's choice, started.
struct harness {
  explicit harness(metadata_log& log, const properties& props = {})
      : config(make_config(props)), ctl(log, images, config) {
    auto started = ctl.start();
    SLUICE_ASSERT(started.has_value(), "controller start: {}", started.error().message);
  }
  config::broker_config config;
  image_publisher images;
  controller ctl;

  std::shared_ptr<const image> image_now() const { return images.current(); }
};

inline new_topic topic(std::string name, int32_t partitions = 1,
                       std::vector<config_entry> configs = {}) {
  new_topic t;
  t.name = std::move(name);
  t.num_partitions = partitions;
  t.replication_factor = 1;
  t.configs = std::move(configs);
  return t;
}

// Creates one topic and asserts that it worked.
inline created_topic create_ok(controller& ctl, new_topic t) {
  auto results = ctl.create_topics({std::move(t)}, false);
  EXPECT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].has_value()) << results[0].error().message;
  return results[0].has_value() ? *results[0] : created_topic{};
}

template <typename T>
errc error_of(const cresult<T>& r) {
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? errc::invalid_request : r.error().code;
}

}  // namespace sluice::cluster::testing
