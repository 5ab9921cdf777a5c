#pragma once

// One file per API (decode, authorize, delegate, respond); this header lists them for the
// registry.

#include "protocol/errors.h"
#include "protocol/messages/api_versions.h"
#include "server/api_registry.h"
#include "server/broker_context.h"

namespace sluice::server::handlers {

void register_all(api_registry& registry);

// The ApiVersions response body for this broker (also used for the UNSUPPORTED_VERSION answer).
protocol::api_versions_response api_versions_body(const broker_context& broker,
                                                  protocol::error_code error);

asio::awaitable<handler_outcome> api_versions(request_context& ctx);
asio::awaitable<handler_outcome> metadata(request_context& ctx);
asio::awaitable<handler_outcome> create_topics(request_context& ctx);
asio::awaitable<handler_outcome> delete_topics(request_context& ctx);
asio::awaitable<handler_outcome> create_partitions(request_context& ctx);
asio::awaitable<handler_outcome> describe_configs(request_context& ctx);
asio::awaitable<handler_outcome> alter_configs(request_context& ctx);
asio::awaitable<handler_outcome> incremental_alter_configs(request_context& ctx);
asio::awaitable<handler_outcome> describe_cluster(request_context& ctx);
asio::awaitable<handler_outcome> describe_topic_partitions(request_context& ctx);
asio::awaitable<handler_outcome> produce(request_context& ctx);
asio::awaitable<handler_outcome> fetch(request_context& ctx);
asio::awaitable<handler_outcome> list_offsets(request_context& ctx);
asio::awaitable<handler_outcome> init_producer_id(request_context& ctx);
asio::awaitable<handler_outcome> offset_for_leader_epoch(request_context& ctx);
asio::awaitable<handler_outcome> delete_records(request_context& ctx);
asio::awaitable<handler_outcome> describe_log_dirs(request_context& ctx);
asio::awaitable<handler_outcome> find_coordinator(request_context& ctx);
asio::awaitable<handler_outcome> join_group(request_context& ctx);
asio::awaitable<handler_outcome> sync_group(request_context& ctx);
asio::awaitable<handler_outcome> heartbeat(request_context& ctx);
asio::awaitable<handler_outcome> leave_group(request_context& ctx);
asio::awaitable<handler_outcome> offset_commit(request_context& ctx);
asio::awaitable<handler_outcome> offset_fetch(request_context& ctx);
asio::awaitable<handler_outcome> offset_delete(request_context& ctx);
asio::awaitable<handler_outcome> list_groups(request_context& ctx);
asio::awaitable<handler_outcome> describe_groups(request_context& ctx);
asio::awaitable<handler_outcome> delete_groups(request_context& ctx);

}  // namespace sluice::server::handlers
