#pragma once

// Start-up: reads the whole metadata log into an image.

#include <memory>
#include <vector>

#include "cluster/image.h"
#include "cluster/metadata_log.h"

namespace sluice::cluster {

struct replayed_image {
  std::shared_ptr<const image> replayed;
  // Every topic the log deleted, oldest first. Their data may be gone already: a cleaner treats
  // an absent directory as done (see deleted_topic for matching by id).
  std::vector<deleted_topic> deleted;
};

// Fails with log_corrupt when a record contradicts the ones before it.
cresult<replayed_image> replay(metadata_log& log);

}  // namespace sluice::cluster
