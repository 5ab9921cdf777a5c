#include "protocol/messages/alter_configs.h"
#include "protocol/messages/create_partitions.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/delete_records.h"
#include "protocol/messages/delete_topics.h"
#include "protocol/messages/describe_cluster.h"
#include "protocol/messages/describe_configs.h"
#include "protocol/messages/describe_log_dirs.h"
#include "protocol/messages/describe_topic_partitions.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/offset_for_leader_epoch.h"
#include "protocol/messages/produce.h"
#include "server/handlers/handlers.h"

namespace sluice::server::handlers {

void register_all(api_registry& registry) {
  registry.add<protocol::api_versions_request>(api_versions);
  registry.add<protocol::metadata_request>(metadata);
  registry.add<protocol::create_topics_request>(create_topics);
  registry.add<protocol::delete_topics_request>(delete_topics);
  registry.add<protocol::describe_configs_request>(describe_configs);
  registry.add<protocol::alter_configs_request>(alter_configs);
  registry.add<protocol::create_partitions_request>(create_partitions);
  registry.add<protocol::incremental_alter_configs_request>(incremental_alter_configs);
  registry.add<protocol::describe_cluster_request>(describe_cluster);
  registry.add<protocol::describe_topic_partitions_request>(describe_topic_partitions);
  // Kafka 4 advertises Produce from v0 though it serves v3 and up (see api_entry).
  registry.add<protocol::produce_request>(produce, /*advertise_dropped_legacy=*/true);
  registry.add<protocol::fetch_request>(fetch);
  registry.add<protocol::list_offsets_request>(list_offsets);
  registry.add<protocol::init_producer_id_request>(init_producer_id);
  registry.add<protocol::offset_for_leader_epoch_request>(offset_for_leader_epoch);
  registry.add<protocol::delete_records_request>(delete_records);
  registry.add<protocol::describe_log_dirs_request>(describe_log_dirs);
}

}  // namespace sluice::server::handlers
