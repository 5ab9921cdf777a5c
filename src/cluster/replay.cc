#include "cluster/replay.h"

#include "base/logging.h"

namespace sluice::cluster {

cresult<replayed_image> replay(metadata_log& log) {
  image_builder builder;
  auto read = log.read(model::offset(0),
                       [&](const logged_record& record) { return builder.apply(record); });
  if (!read) return failure(read.error());
  std::vector<deleted_topic> deleted = builder.deleted();
  auto built = std::move(builder).build();
  logger("cluster")->info("metadata replayed to offset {}: {} topics, {} partitions",
                          built->offset().value(), built->topics().size(),
                          built->partition_count());
  return replayed_image{std::move(built), std::move(deleted)};
}

}  // namespace sluice::cluster
