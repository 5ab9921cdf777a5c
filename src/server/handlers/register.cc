#include "protocol/messages/alter_configs.h"
#include "protocol/messages/create_partitions.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/delete_groups.h"
#include "protocol/messages/delete_records.h"
#include "protocol/messages/delete_topics.h"
#include "protocol/messages/describe_cluster.h"
#include "protocol/messages/describe_configs.h"
#include "protocol/messages/describe_groups.h"
#include "protocol/messages/describe_log_dirs.h"
#include "protocol/messages/describe_topic_partitions.h"
#include "protocol/messages/fetch.h"
#include "protocol/messages/find_coordinator.h"
#include "protocol/messages/heartbeat.h"
#include "protocol/messages/incremental_alter_configs.h"
#include "protocol/messages/init_producer_id.h"
#include "protocol/messages/join_group.h"
#include "protocol/messages/leave_group.h"
#include "protocol/messages/list_groups.h"
#include "protocol/messages/list_offsets.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/offset_commit.h"
#include "protocol/messages/offset_delete.h"
#include "protocol/messages/offset_fetch.h"
#include "protocol/messages/offset_for_leader_epoch.h"
#include "protocol/messages/produce.h"
#include "protocol/messages/sync_group.h"
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
  registry.add<protocol::find_coordinator_request>(find_coordinator);
  registry.add<protocol::join_group_request>(join_group);
  registry.add<protocol::sync_group_request>(sync_group);
  registry.add<protocol::heartbeat_request>(heartbeat);
  registry.add<protocol::leave_group_request>(leave_group);
  registry.add<protocol::offset_commit_request>(offset_commit);
  registry.add<protocol::offset_fetch_request>(offset_fetch);
  registry.add<protocol::offset_delete_request>(offset_delete);
  registry.add<protocol::list_groups_request>(list_groups);
  registry.add<protocol::describe_groups_request>(describe_groups);
  registry.add<protocol::delete_groups_request>(delete_groups);
}

}  // namespace sluice::server::handlers
