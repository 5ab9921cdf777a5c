#pragma once

// The page GET /metrics answers: the shards' summed counters and the broker's gauges in
// Prometheus' text format, named after the Kafka JMX MBean each one mirrors
// (server/http/README.md has the table).

#include <cstdint>
#include <optional>
#include <string>

#include "server/http/counters.h"

namespace sluice::server::metrics {

// Values read at scrape time from broker-wide state rather than counted by the shards.
struct broker_gauges {
  int64_t connections = 0;         // open Kafka connections, every listener
  uint64_t topics = 0;             // topics in the metadata image, internal ones included
  uint64_t partitions = 0;         // partitions in the metadata image
  std::optional<uint64_t> groups;  // consumer groups; nullopt: not known now (no sample)
};

std::string render_metrics_page(const totals& counted, const broker_gauges& gauges);

}  // namespace sluice::server::metrics
