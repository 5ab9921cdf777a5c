#include "server/broker.h"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "base/logging.h"
#include "cluster/config_resolver.h"
#include "server/connection.h"
#include "server/http/metrics_page.h"

namespace sluice::server {

namespace {

// Partitions all fetch sessions together may cache (each costs about 150 bytes): the bound on
// the cache's memory that `max.incremental.fetch.session.cache.slots` alone does not give,
// since one session may name any number of partitions. Larger sessions are refused and the
// client fetches without one.
constexpr int64_t fetch_session_partitions_max = 1'000'000;

void read_limits(const config::broker_config& cfg, broker_context& ctx) {
  ctx.request_bytes_max = cfg.get_int("socket.request.max.bytes");
  ctx.connection_inflight_bytes_max = cfg.get_int("sluice.connection.max.inflight.bytes");
  ctx.connection_inflight_requests_max = cfg.get_int("queued.max.requests");
  ctx.connections_max = cfg.get_int("max.connections");
  ctx.connections_per_ip_max = cfg.get_int("max.connections.per.ip");
  ctx.idle_ms_max = cfg.get_int("connections.max.idle.ms");
  ctx.socket_send_buffer_bytes = static_cast<int32_t>(cfg.get_int("socket.send.buffer.bytes"));
  ctx.socket_receive_buffer_bytes =
      static_cast<int32_t>(cfg.get_int("socket.receive.buffer.bytes"));
}

// The published endpoint for each listener: advertised.listeners where given, else the bound
// listener, with a wildcard host replaced by this machine's name as Kafka does.
result<std::map<std::string, endpoint>, std::string> advertised_endpoints(
    const config::broker_config& cfg, const std::vector<endpoint>& bound,
    const std::map<std::string, security_protocol>& protocols) {
  std::map<std::string, endpoint> out;
  for (const auto& ep : bound) {
    endpoint published = ep;
    if (published.host.empty() || published.host == "0.0.0.0" || published.host == "::") {
      char name[256] = {};
      published.host = ::gethostname(name, sizeof(name) - 1) == 0 ? name : "localhost";
    }
    out[ep.listener_name] = published;
  }
  if (!cfg.is_null("advertised.listeners")) {
    auto parsed = parse_endpoints(cfg.get_string("advertised.listeners"), protocols);
    if (!parsed) return failure("advertised.listeners: " + parsed.error().message);
    for (auto& ep : *parsed) {
      if (!out.contains(ep.listener_name))
        return failure(fmt::format("advertised listener {} is not in listeners", ep.listener_name));
      out[ep.listener_name] = ep;
    }
  }
  return out;
}

}  // namespace

// Opens the metadata log, replays it into the first image and makes the controller reachable
// from the handlers (cluster/README.md "Start-up").
result<void, std::string> broker::start_controller() {
  auto log = logger("broker");
  const std::string dir = cluster::metadata_log_directory(_config);
  auto opened = cluster::file_metadata_log::open(dir);
  if (!opened) {
    return failure(
        fmt::format("cannot open the metadata log in {}: {}", dir, opened.error().message));
  }
  _metadata_log = std::move(*opened);
  if (_metadata_log->recovery().truncated_bytes > 0) {
    log->warn("metadata log {}: cut {} bytes of a torn tail", _metadata_log->dir(),
              _metadata_log->recovery().truncated_bytes);
  }
  _controller = std::make_unique<cluster::controller>(*_metadata_log, _images, _config);
  if (auto started = _controller->start(); !started) {
    return failure(fmt::format("cannot replay the metadata log in {}: {}", _metadata_log->dir(),
                               started.error().message));
  }
  auto image = _images.current();
  log->info("metadata log replayed: {} topics, {} partitions, up to offset {}",
            image->topics().size(), image->partition_count(), image->offset().value());
  _context.images = &_images;
  _context.controller = _controller.get();
  _context.controller_executor = _controller_thread.executor();
  return {};
}

// Loads the data partitions (all but the metadata log's), creates the logs the image has and
// storage lacks, removes those of topics deleted while the broker was down, and has every later
// controller write do the same (cluster/README.md "Storage cleaner").
result<void, std::string> broker::start_partitions() {
  auto log = logger("broker");
  auto image = _images.current();
  storage::log_manager_config lc;
  lc.log_dirs = _config.log_dirs();
  cluster::config_resolver resolver(*image, _config);
  auto effective = resolver.effective_topic_configs({});
  auto defaults = storage::apply_overrides(
      storage::log_config{},
      std::map<std::string, std::string>(effective.begin(), effective.end()));
  if (!defaults) return failure("log defaults: " + defaults.error().describe());
  lc.defaults = *defaults;
  lc.topic_overrides = [image](const std::string& topic) {
    std::map<std::string, std::string> out;
    if (auto t = image->find_topic(topic)) out.insert(t->configs.begin(), t->configs.end());
    return out;
  };
  lc.skip = [](const model::topic_partition& tp) {
    return tp.topic == cluster::metadata_topic_name;
  };
  // fdatasync runs on the flusher's thread; its completion returns to the log's owner shard.
  _flusher.start();
  lc.group_commit = &_flusher;
  lc.post = [this](const model::topic_partition& tp, std::function<void()> fn) {
    unsigned shard = partition_registry::owner_of(tp, _shards.size());
    asio::post(_shards.context(shard), std::move(fn));
  };
  _logs = std::make_unique<storage::log_manager>(storage::posix_file_system(), std::move(lc));
  if (auto started = _logs->start(); !started) {
    return failure("cannot load the partition logs: " + started.error().describe());
  }
  std::vector<asio::io_context*> shards;
  for (unsigned s = 0; s < _shards.size(); ++s) shards.push_back(&_shards.context(s));
  _partitions = std::make_unique<partition_registry>(*_logs, _images, shards);
  _partitions->remove_deleted_now(_controller->take_deleted_topics(), *image);
  _partitions->create_missing(*image);
  // log.flush.offset.checkpoint.interval.ms is not a Sluice setting yet: Kafka's default.
  _partitions->start_housekeeping({1000, _config.get_int("log.retention.check.interval.ms"), 60000,
                                   _config.get_int("producer.id.expiration.ms"),
                                   _config.get_int("producer.id.expiration.check.interval.ms")});
  _context.partitions = _partitions.get();
  _context.after_controller_write = [this] {
    _partitions->create_missing(*_images.current());
    _partitions->apply_configs(_images.current());
    auto deleted = _controller->take_deleted_topics();
    if (!deleted.empty()) _partitions->remove_deleted(deleted, _controller_thread.executor());
  };
  log->info("partition logs loaded: {}", _logs->size());
  _group_host = std::make_unique<group_host>(*_partitions, _images);
  int32_t offsets_partitions =
      static_cast<int32_t>(_config.get_int("offsets.topic.num.partitions"));
  offsets_partitions = std::max(offsets_partitions, _group_host->partition_count());
  _groups = std::make_unique<coordinator::group_coordinator>(group_settings_from(_config),
                                                             *_group_host, offsets_partitions);
  _context.groups = _groups.get();

  fetch_session_cache::limits sessions;
  sessions.slots = _config.get_int("max.incremental.fetch.session.cache.slots");
  sessions.eviction_ms = _config.get_int("sluice.fetch.session.min.eviction.ms");
  sessions.partitions_max = fetch_session_partitions_max;
  _fetch_sessions = std::make_unique<fetch_sessions>(shards, sessions);
  _context.fetch_session_caches = _fetch_sessions.get();
  return {};
}

// After the shards and the controller's thread stopped: nothing else touches a log.
void broker::stop_partitions() {
  _context.groups = nullptr;
  _groups.reset();
  _group_host.reset();
  _context.fetch_session_caches = nullptr;
  _fetch_sessions.reset();
  _context.partitions = nullptr;
  _partitions.reset();
  if (_logs) {
    if (auto stopped = _logs->stop(); !stopped)
      logger("broker")->error("closing the partition logs: {}", stopped.error().describe());
    _logs.reset();
  }
  // After the logs: their last syncs are done; completions still queued go to shards that no
  // longer run, where they are dropped with the io_contexts.
  _flusher.stop();
}

broker::broker(const config::broker_config& config, data_dirs dirs, unsigned shard_count)
    : _config(config), _dirs(std::move(dirs)), _shards(shard_count), _connections(shard_count) {}

broker::~broker() {
  stop();
}

result<std::unique_ptr<broker>, std::string> broker::start(const config::broker_config& cfg) {
  auto log = logger("broker");
  auto started = std::chrono::steady_clock::now();
  auto protocols = parse_protocol_map(cfg.get_string("listener.security.protocol.map"));
  if (!protocols) return failure(protocols.error().message);
  auto endpoints = parse_endpoints(cfg.get_string("listeners"), *protocols);
  if (!endpoints) return failure("listeners: " + endpoints.error().message);
  for (const auto& ep : *endpoints) {
    if (ep.protocol != security_protocol::plaintext)
      return failure(fmt::format("listener {}: only PLAINTEXT listeners are supported so far",
                                 ep.listener_name));
  }
  auto metrics_address = metrics::parse_listener(cfg.get_string("sluice.metrics.listener"));
  if (!metrics_address) return failure(metrics_address.error());
  for (const auto& key : cfg.accepted_but_unused())
    log->info("configuration {} is accepted but has no effect in Sluice yet", key);

  auto dirs = data_dirs::open(cfg.log_dirs(), cfg.node_id());
  if (!dirs) return failure(dirs.error());
  for (const auto& path : dirs->paths()) log->info("data directory {}", path);
  log->info("cluster id {}, node id {}", dirs->cluster_id(), cfg.node_id());

  unsigned shard_count = static_cast<unsigned>(cfg.get_int("sluice.shards"));
  if (shard_count == 0) shard_count = std::max(1u, std::thread::hardware_concurrency());
  std::unique_ptr<broker> b(new broker(cfg, std::move(*dirs), shard_count));
  b->_context.config = &cfg;
  b->_context.node_id = cfg.node_id();
  b->_context.cluster_id = b->_dirs.cluster_id();
  b->_context.rack = cfg.get_string("broker.rack");
  b->_context.registry = make_api_registry(cfg.get_bool("sluice.legacy.api.versions.enable"));
  read_limits(cfg, b->_context);
  if (auto started = b->start_controller(); !started) return failure(started.error());
  if (auto started = b->start_partitions(); !started) return failure(started.error());

  int backlog = static_cast<int>(cfg.get_int("socket.listen.backlog.size"));
  std::vector<endpoint> bound;
  for (const auto& ep : *endpoints) {
    auto l = listener::bind(ep, b->_shards, b->_context, b->_connections, backlog);
    if (!l) return failure(l.error());
    bound.push_back((*l)->bound());
    b->_listeners.push_back(std::move(*l));
  }
  if (*metrics_address) {
    auto m = metrics::metrics_endpoint::bind(**metrics_address,
                                             [raw = b.get()] { return raw->metrics_page(); });
    if (!m) return failure(m.error());
    b->_metrics = std::move(*m);
  }
  auto advertised = advertised_endpoints(cfg, bound, *protocols);
  if (!advertised) return failure(advertised.error());
  b->_context.advertised = std::move(*advertised);

  b->_context.on_connection_closed = [raw = b.get()] {
    asio::post(raw->_shards.context(0), [raw] {
      for (auto& l : raw->_listeners) l->room_for_connection();
    });
  };
  b->_controller_thread.start();
  b->_counters = std::make_unique<metrics::shard_counter_set>(shard_count);
  for (unsigned s = 0; s < shard_count; ++s) {
    asio::post(b->_shards.context(s),
               [c = &b->_counters->shard(s)] { metrics::bind_current_shard(c); });
  }
  b->_shards.start();
  b->_running = true;
  b->_groups->start();
  log->info("{} shards running", shard_count);
  for (auto& l : b->_listeners) {
    l->start();
    const auto& ep = l->bound();
    log->info("listening on {}://{}:{}", ep.listener_name, ep.host.empty() ? "0.0.0.0" : ep.host,
              ep.port);
  }
  if (b->_metrics) {
    b->_metrics->start();
    const auto& at = b->_metrics->bound();
    bool v6 = at.host.find(':') != std::string::npos;
    log->info("metrics listening on http://{}{}{}:{}/metrics", v6 ? "[" : "", at.host,
              v6 ? "]" : "", at.port);
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  log->info("ready in {} ms", ms);
  return b;
}

// On the metrics endpoint's thread: the groups of every __consumer_offsets partition, listed on
// their owner shards; nullopt while a partition loads, or when the shards do not answer within
// a second (the scrape then goes without it rather than waiting).
std::optional<uint64_t> broker::group_count() {
  auto listing = asio::co_spawn(_shards.context(0), _groups->list(), asio::use_future);
  if (listing.wait_for(std::chrono::seconds(1)) != std::future_status::ready) return std::nullopt;
  try {
    auto [status, groups] = listing.get();
    if (status != coordinator::errc::none) return std::nullopt;
    return groups.size();
  } catch (const std::exception& e) {
    logger("broker")->warn("metrics: listing the groups failed: {}", e.what());
    return std::nullopt;
  }
}

// On the metrics endpoint's thread: the shards' counters summed, and gauges read from state
// every thread may read (the connection count is atomic, the image is published atomically).
std::string broker::metrics_page() {
  metrics::broker_gauges gauges;
  gauges.connections = _context.open_connections.load(std::memory_order_relaxed);
  auto image = _images.current();
  gauges.topics = image->topics().size();
  gauges.partitions = image->partition_count();
  gauges.groups = group_count();
  return metrics::render_metrics_page(_counters->sum(), gauges);
}

std::vector<endpoint> broker::bound_endpoints() const {
  std::vector<endpoint> out;
  for (const auto& l : _listeners) out.push_back(l->bound());
  return out;
}

void broker::close_connections() {
  // Each shard closes its own connections; then wait (bounded) for their coroutines to finish.
  for (unsigned s = 0; s < _shards.size(); ++s) {
    std::promise<void> done;
    asio::post(_shards.context(s), [this, s, &done] {
      for (auto& weak : _connections[s].open)
        if (auto c = weak.lock()) c->close();
      done.set_value();
    });
    done.get_future().wait();
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (_context.open_connections.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void broker::stop() {
  if (_stopped) return;
  _stopped = true;
  if (!_running) {
    // start() failed before the shards ran: nothing was accepted, nothing to close.
    _metrics.reset();
    _controller_thread.stop();
    _shards.stop();
    stop_partitions();
    return;
  }
  auto log = logger("broker");
  log->info("shutting down");
  if (_metrics) _metrics->stop();
  for (auto& l : _listeners) l->stop();
  // Waiting JoinGroup and SyncGroup requests are answered (NOT_COORDINATOR) so that their
  // connections can close.
  if (_groups) _groups->stop();
  // Long-polling fetches answer now rather than at their max_wait_ms.
  _partitions->stop_waiters();
  close_connections();
  // Handlers may still wait for the controller; let it finish before their shards stop.
  _controller_thread.stop();
  _shards.stop();
  stop_partitions();
  _listeners.clear();
  log->info("shut down cleanly");
}

}  // namespace sluice::server
