// conn_bench: many concurrent producer connections. Opens --connections TCP connections to a
// Kafka broker, then each sends Produce requests (one in flight per connection, one batch of
// --records-per-request records to partition i % --partitions) for --seconds. Reports the
// connections established, requests and records per second, request latency percentiles and the
// broker's RSS and CPU time while they are all open. The topic must exist (loadgen --mode create).
// One thread, asio coroutines, the project's protocol library for encode and decode.
//
//   conn_bench --brokers 127.0.0.1:9092 --topic t --partitions 6 --connections 1000 --seconds 5

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <chrono>
#include <cstdio>

#include "histogram.h"
#include "json.h"
#include "proc_stats.h"
#include "protocol/batch_builder.h"
#include "protocol/big_endian.h"
#include "protocol/header.h"
#include "protocol/messages/produce.h"

namespace sluice::bench::connections {
namespace {

namespace proto = sluice::protocol;
using asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
constexpr int16_t produce_version = 7;  // non-flexible: response header v0

struct options {
  std::string host = "127.0.0.1";
  int port = 9092;
  std::string topic = "conn-bench";
  int partitions = 1;
  int connections = 1000;
  int records_per_request = 1;
  int record_size = 1024;
  int acks = 1;
  double seconds = 5;
  pid_t broker_pid = 0;
  bool json = false;
};

struct shared {
  options o;
  int connected = 0;
  int failed = 0;
  int finished = 0;
  int64_t requests = 0;
  int64_t errors = 0;
  std::string first_error;
  histogram latency_ns;
  clock_type::time_point deadline;
  asio::steady_timer* gate = nullptr;  // expires when every connection is up
};

// Size, request header v1, Produce v7 body with one batch: the same frame every time, only the
// correlation id changes (bytes 8..11).
std::vector<uint8_t> produce_frame(const options& o, int partition) {
  proto::batch_builder b;
  std::string value(static_cast<size_t>(o.record_size), 'v');
  for (int i = 0; i < o.records_per_request; ++i)
    b.add(1700000000000, std::nullopt, proto::bytes_of(value));
  auto batch = b.build();
  proto::produce_request req;
  req.acks = static_cast<int16_t>(o.acks);
  req.timeout_ms = 30000;
  auto& t = req.topic_data.emplace_back();
  t.name = o.topic;
  auto& p = t.partition_data.emplace_back();
  p.index = partition;
  p.records = proto::records_data::view(batch);
  proto::writer w;
  w.write(int32_t{0});
  proto::request_header h;
  h.api_key = proto::produce_request::api_key;
  h.api_version = produce_version;
  h.client_id = "conn_bench";
  (void)h.encode(w, 1);
  (void)req.encode(w, produce_version);
  w.patch_int32(0, static_cast<int32_t>(w.size() - 4));
  return *std::move(w).finish().flatten();
}

void note_error(shared& s, std::string what) {
  if (s.errors++ == 0) s.first_error = std::move(what);
}

asio::awaitable<void> run_connection(shared& s, int index) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  std::error_code ec;
  auto connect = socket.async_connect(
      tcp::endpoint(asio::ip::make_address(s.o.host), static_cast<uint16_t>(s.o.port)),
      asio::redirect_error(asio::use_awaitable, ec));
  co_await std::move(connect);
  if (ec) {
    ++s.failed;
    note_error(s, "connect: " + ec.message());
  } else {
    ++s.connected;
  }
  // Expiring the gate releases the waiting connections and lets this one pass at once.
  if (s.connected + s.failed == s.o.connections) s.gate->expires_at(clock_type::now());
  auto wait = s.gate->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_await std::move(wait);
  if (!socket.is_open() || s.connected == 0) co_return;
  socket.set_option(tcp::no_delay(true));
  auto frame = produce_frame(s.o, index % s.o.partitions);
  std::vector<uint8_t> response;
  int32_t correlation = 0;
  while (clock_type::now() < s.deadline) {
    proto::store_big_endian<int32_t>(frame.data() + 8, ++correlation);
    auto sent_at = clock_type::now();
    auto write = asio::async_write(socket, asio::buffer(frame),
                                   asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(write);
    if (ec) break;
    if (s.o.acks == 0) {
      ++s.requests;
      continue;
    }
    std::array<uint8_t, 4> size_bytes{};
    auto read_size = asio::async_read(socket, asio::buffer(size_bytes),
                                      asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(read_size);
    if (ec) break;
    auto size = static_cast<size_t>(proto::load_big_endian<int32_t>(size_bytes.data()));
    if (size < 4 || size > (1 << 20)) {
      note_error(s, "bad response size");
      break;
    }
    response.resize(size);
    auto read_body = asio::async_read(socket, asio::buffer(response),
                                      asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(read_body);
    if (ec) break;
    s.latency_ns.record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - sent_at).count()));
    ++s.requests;
    proto::produce_response resp;
    auto body = std::span<const uint8_t>(response).subspan(4);
    if (!proto::decode_message(resp, body, produce_version)) {
      note_error(s, "undecodable Produce response");
      break;
    }
    for (const auto& t : resp.responses) {
      for (const auto& p : t.partition_responses) {
        if (p.error_code != 0) note_error(s, "Produce error code " + std::to_string(p.error_code));
      }
    }
  }
  if (ec && clock_type::now() < s.deadline) note_error(s, "connection: " + ec.message());
  ++s.finished;
}

int run(const options& o) {
  // Every connection is a file descriptor: raise the soft limit to the hard one.
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &nofile);

  asio::io_context io(1);
  asio::steady_timer gate(io, clock_type::time_point::max());
  shared s;
  s.o = o;
  s.gate = &gate;
  s.deadline = clock_type::time_point::max();
  auto connect_start = clock_type::now();
  for (int i = 0; i < o.connections; ++i) {
    asio::co_spawn(io, run_connection(s, i), asio::detached);
  }
  // Runs the connects, then samples the broker with every connection open and starts the load.
  while (s.connected + s.failed < o.connections && io.run_one() > 0) {
  }
  double connect_s = std::chrono::duration<double>(clock_type::now() - connect_start).count();
  std::optional<proc_sample> before;
  if (o.broker_pid > 0) before = sample_process(o.broker_pid);
  auto start = clock_type::now();
  s.deadline = start + std::chrono::duration_cast<clock_type::duration>(
                           std::chrono::duration<double>(o.seconds));
  io.run();
  double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  std::optional<proc_sample> after;
  if (o.broker_pid > 0) after = sample_process(o.broker_pid);

  int64_t records = s.requests * o.records_per_request;
  double mb = static_cast<double>(records) * o.record_size / 1e6;
  const auto& h = s.latency_ns;
  auto ms = [](uint64_t ns) { return static_cast<double>(ns) / 1e6; };
  if (o.json) {
    json_writer j;
    j.integer("connections", o.connections)
        .integer("connected", s.connected)
        .num("connect_s", connect_s)
        .integer("requests", s.requests)
        .integer("records", records)
        .num("seconds", seconds)
        .num("requests_s", static_cast<double>(s.requests) / seconds)
        .num("records_s", static_cast<double>(records) / seconds)
        .num("mb_s", mb / seconds)
        .integer("errors", s.errors)
        .str("first_error", s.first_error)
        .begin("latency_us")
        .num("p50", ms(h.percentile(0.5)) * 1e3)
        .num("p99", ms(h.percentile(0.99)) * 1e3)
        .num("p999", ms(h.percentile(0.999)) * 1e3)
        .num("max", ms(h.max()) * 1e3)
        .end();
    if (before && after) {
      j.begin("broker")
          .num("cpu_s", after->cpu_s - before->cpu_s)
          .integer("vm_rss_kb_connected", static_cast<int64_t>(before->vm_rss_kb))
          .integer("vm_hwm_kb", static_cast<int64_t>(after->vm_hwm_kb))
          .end();
    }
    std::printf("%s\n", j.finish().c_str());
  } else {
    std::printf(
        "conn_bench: %d/%d connections in %.2f s; %lld requests of %d x %d B in %.2f s: "
        "%.0f requests/s, %.0f records/s, %.1f MB/s; %lld errors%s%s\n",
        s.connected, o.connections, connect_s, static_cast<long long>(s.requests),
        o.records_per_request, o.record_size, seconds, static_cast<double>(s.requests) / seconds,
        static_cast<double>(records) / seconds, mb / seconds, static_cast<long long>(s.errors),
        s.first_error.empty() ? "" : ", first: ", s.first_error.c_str());
    std::printf("latency  p50 %.2f p99 %.2f p99.9 %.2f max %.2f ms\n", ms(h.percentile(0.5)),
                ms(h.percentile(0.99)), ms(h.percentile(0.999)), ms(h.max()));
    if (before && after) {
      std::printf("broker   RSS with every connection open %.1f MiB, VmHWM %.1f MiB, cpu %.2f s\n",
                  static_cast<double>(before->vm_rss_kb) / 1024,
                  static_cast<double>(after->vm_hwm_kb) / 1024, after->cpu_s - before->cpu_s);
    }
  }
  return s.connected == o.connections && s.errors == 0 ? 0 : 2;
}

}  // namespace
}  // namespace sluice::bench::connections

int main(int argc, char** argv) {
  sluice::bench::connections::options o;
  std::string brokers = "127.0.0.1:9092";
  CLI::App app{"conn_bench: many concurrent producer connections"};
  app.add_option("--brokers,-b", brokers, "host:port")->capture_default_str();
  app.add_option("--topic,-t", o.topic, "existing topic")->capture_default_str();
  app.add_option("--partitions", o.partitions, "its partitions")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--connections,-c", o.connections, "connections")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--records-per-request", o.records_per_request, "records per Produce request")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--record-size,-s", o.record_size, "bytes per record value")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--acks", o.acks, "0, 1 or -1")->check(CLI::IsMember({0, 1, -1}));
  app.add_option("--seconds", o.seconds, "load duration")->capture_default_str();
  app.add_option("--broker-pid", o.broker_pid, "broker pid: RSS and CPU time from /proc");
  app.add_flag("--json", o.json, "one JSON object on stdout");
  CLI11_PARSE(app, argc, argv);
  auto colon = brokers.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "conn_bench: --brokers must be host:port\n");
    return 1;
  }
  o.host = brokers.substr(0, colon);
  o.port = std::stoi(brokers.substr(colon + 1));
  return sluice::bench::connections::run(o);
}
