#pragma once

// The coordinator's view of __consumer_offsets (coordinator::partition_host) over the
// partition registry and the metadata image: owner shards, logs, high watermark and wake-ups.

#include "cluster/image_publisher.h"
#include "config/broker_config.h"
#include "coordinator/group_coordinator.h"
#include "server/partition_registry.h"

namespace sluice::server {

class group_host final : public coordinator::partition_host {
 public:
  // Both must outlive the host.
  group_host(partition_registry& registry, const cluster::image_publisher& images)
      : _registry(registry), _images(images) {}

  int32_t partition_count() const override;
  asio::any_io_executor executor(int32_t partition) override;
  void post(int32_t partition, std::function<void(storage::log*)> fn) override;
  void appended(int32_t partition) override;
  model::leader_epoch leader_epoch(int32_t partition) const override;

 private:
  static model::topic_partition tp(int32_t partition);
  partition_registry& _registry;
  const cluster::image_publisher& _images;
};

// Settings of the group coordinator from the broker configuration.
coordinator::group_settings group_settings_from(const config::broker_config& config);

}  // namespace sluice::server
