#pragma once

// A partition of the metadata image as Metadata and DescribeTopicPartitions show it. Both
// responses have a partition struct with the same fields; this fills either.

#include <vector>

#include "cluster/records.h"

namespace sluice::server::handlers {

template <typename Partition>
Partition to_kafka_partition(const cluster::partition_record& p) {
  Partition out;
  out.partition_index = p.partition.value();
  out.leader_id = p.leader.value();
  out.leader_epoch = p.leader_epoch.value();
  for (auto id : p.replicas) out.replica_nodes.push_back(id.value());
  for (auto id : p.isr) out.isr_nodes.push_back(id.value());
  return out;
}

}  // namespace sluice::server::handlers
