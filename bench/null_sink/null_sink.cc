// null_sink: a Kafka-protocol server that stores nothing, to measure what the clients and the
// loopback interface can do on this machine by themselves. One thread, asio coroutines, the
// project's generated protocol types for every decode and encode.
//
// It answers ApiVersions, Metadata (itself as the only broker; any topic asked for exists, with
// the partitions it was created with or --partitions), CreateTopics (always succeeds) and Produce
// (acks respected; no validation, nothing stored; offsets count up per partition). Any other
// request closes the connection. Prints "listening on HOST:PORT" on stdout once it accepts.
//
//   null_sink [--host 127.0.0.1] [--port 0] [--partitions 1]

#include <CLI/CLI.hpp>
#include <asio.hpp>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "protocol/api.h"
#include "protocol/big_endian.h"
#include "protocol/header.h"
#include "protocol/messages/api_versions.h"
#include "protocol/messages/create_topics.h"
#include "protocol/messages/metadata.h"
#include "protocol/messages/produce.h"
#include "protocol/record_batch.h"

namespace sluice::bench::null_sink {
namespace {

namespace proto = sluice::protocol;
using asio::ip::tcp;

constexpr size_t frame_bytes_max = 100 << 20;  // Kafka's socket.request.max.bytes default
constexpr int32_t node_id = 1;
constexpr int32_t partitions_max = 1000000;

struct topic_info {
  int32_t partitions = 0;
  model::uuid id;
  std::vector<int64_t> next_offset;  // per partition
};

class sink {
 public:
  sink(std::string host, int port, int32_t default_partitions)
      : _host(std::move(host)), _port(port), _default_partitions(default_partitions) {}

  // Encodes the answer to one request frame (after its size) into `out`; false closes the
  // connection.
  bool handle(std::span<const uint8_t> frame, std::vector<uint8_t>& out) {
    auto prefix = proto::peek_request_header(frame);
    if (!prefix) return false;
    int16_t key = prefix->api_key;
    int16_t version = prefix->api_version;
    int16_t header_version = proto::request_header_version(key, version);
    if (header_version < 0) {
      std::fprintf(stderr, "null_sink: unsupported api key %d; closing\n", key);
      return false;
    }
    proto::reader r(frame);
    proto::request_header header;
    if (!header.decode(r, header_version)) return false;
    auto body = frame.subspan(frame.size() - r.remaining());
    switch (key) {
      case proto::api_versions_request::api_key:
        return api_versions(header, body, out);
      case proto::metadata_request::api_key:
        return metadata(header, body, out);
      case proto::create_topics_request::api_key:
        return create_topics(header, body, out);
      case proto::produce_request::api_key:
        return produce(header, body, out);
      default:
        std::fprintf(stderr, "null_sink: api key %d not served; closing\n", key);
        return false;
    }
  }

 private:
  template <typename Response>
  static bool respond(const proto::request_header& req, const Response& resp, int16_t version,
                      std::vector<uint8_t>& out) {
    proto::writer w;
    w.write(int32_t{0});
    proto::response_header h;
    h.correlation_id = req.correlation_id;
    (void)h.encode(w, proto::response_header_version(req.api_key, req.api_version));
    if (!resp.encode(w, version)) return false;
    w.patch_int32(0, static_cast<int32_t>(w.size() - 4));
    auto msg = std::move(w).finish();
    out.insert(out.end(), msg.bytes.begin(), msg.bytes.end());
    return true;
  }

  template <typename T>
  static void add_api(proto::api_versions_response& resp) {
    auto& v = resp.api_keys.emplace_back();
    v.api_key = T::api_key;
    v.min_version = T::min_version;
    v.max_version = T::max_version;
  }

  bool api_versions(const proto::request_header& h, std::span<const uint8_t> body,
                    std::vector<uint8_t>& out) {
    proto::api_versions_response resp;
    add_api<proto::produce_request>(resp);
    add_api<proto::metadata_request>(resp);
    add_api<proto::api_versions_request>(resp);
    add_api<proto::create_topics_request>(resp);
    int16_t version = h.api_version;
    if (version > proto::api_versions_response::max_version) {
      // As Kafka does: a v0 answer with UNSUPPORTED_VERSION and the supported range.
      resp.error_code = 35;
      version = 0;
    }
    return respond(h, resp, version, out);
  }

  topic_info& topic(const std::string& name, int32_t partitions) {
    auto it = _topics.find(name);
    if (it != _topics.end()) return it->second;
    auto& t = _topics[name];
    t.partitions = partitions;
    t.next_offset.assign(static_cast<size_t>(partitions), 0);
    t.id = model::uuid::random();
    return t;
  }

  bool metadata(const proto::request_header& h, std::span<const uint8_t> body,
                std::vector<uint8_t>& out) {
    proto::metadata_request req;
    if (!proto::decode_message(req, body, h.api_version)) return false;
    proto::metadata_response resp;
    auto& b = resp.brokers.emplace_back();
    b.node_id = node_id;
    b.host = _host;
    b.port = _port;
    resp.cluster_id = "null-sink";
    resp.controller_id = node_id;
    std::vector<std::string> names;
    if (req.topics) {
      for (const auto& t : *req.topics) {
        if (t.name) names.push_back(*t.name);
      }
    } else {
      for (const auto& [name, info] : _topics) names.push_back(name);
    }
    for (const auto& name : names) {
      // A topic not created yet is described with the default partitions but not registered,
      // so that a later CreateTopics decides its partition count.
      auto known = _topics.find(name);
      int32_t partitions = known != _topics.end() ? known->second.partitions : _default_partitions;
      auto& t = resp.topics.emplace_back();
      t.name = name;
      t.topic_id = known != _topics.end() ? known->second.id : model::uuid{};
      for (int32_t p = 0; p < partitions; ++p) {
        auto& part = t.partitions.emplace_back();
        part.partition_index = p;
        part.leader_id = node_id;
        part.leader_epoch = 0;
        part.replica_nodes = {node_id};
        part.isr_nodes = {node_id};
      }
    }
    return respond(h, resp, h.api_version, out);
  }

  bool create_topics(const proto::request_header& h, std::span<const uint8_t> body,
                     std::vector<uint8_t>& out) {
    proto::create_topics_request req;
    if (!proto::decode_message(req, body, h.api_version)) return false;
    proto::create_topics_response resp;
    for (const auto& t : req.topics) {
      int32_t n = t.num_partitions > 0 ? t.num_partitions : _default_partitions;
      auto& r = resp.topics.emplace_back();
      r.name = t.name;
      r.error_message = std::nullopt;
      if (n > partitions_max) {
        r.error_code = 37;  // INVALID_PARTITIONS
        continue;
      }
      auto& info = topic(t.name, n);
      r.topic_id = info.id;
      r.num_partitions = info.partitions;
      r.replication_factor = 1;
    }
    return respond(h, resp, h.api_version, out);
  }

  bool produce(const proto::request_header& h, std::span<const uint8_t> body,
               std::vector<uint8_t>& out) {
    proto::produce_request req;
    if (!proto::decode_message(req, body, h.api_version)) return false;
    proto::produce_response resp;
    for (const auto& td : req.topic_data) {
      auto& tr = resp.responses.emplace_back();
      tr.name = td.name;
      tr.topic_id = td.topic_id;
      auto& info = topic(td.name, _default_partitions);
      for (const auto& pd : td.partition_data) {
        auto& pr = tr.partition_responses.emplace_back();
        pr.index = pd.index;
        if (pd.index < 0 || pd.index >= info.partitions) {
          pr.error_code = 3;  // UNKNOWN_TOPIC_OR_PARTITION
          continue;
        }
        // Offsets advance by the records of each batch, read from the batch headers only.
        int64_t& next = info.next_offset[static_cast<size_t>(pd.index)];
        pr.base_offset = next;
        pr.log_start_offset = 0;
        auto bytes = pd.records.memory();
        while (bytes.size() >= proto::batch_header_size) {
          auto header = proto::read_batch_header(bytes);
          if (!header || header->size_bytes() > bytes.size()) break;
          next += header->last_offset_delta + 1;
          bytes = bytes.subspan(header->size_bytes());
        }
      }
    }
    if (req.acks == 0) return true;
    return respond(h, resp, h.api_version, out);
  }

  std::string _host;
  int _port;
  int32_t _default_partitions;
  std::unordered_map<std::string, topic_info> _topics;
};

// One connection: reads whatever has arrived, answers every complete frame in it, writes the
// answers in one go. Requests are answered in order, as Kafka requires.
asio::awaitable<void> serve(tcp::socket socket, sink& s) {
  std::vector<uint8_t> in(64 << 10);  // grows to the largest frame seen
  std::vector<uint8_t> out;
  size_t have = 0;
  std::error_code ec;
  for (;;) {
    if (have == in.size()) in.resize(in.size() * 2);
    auto read = socket.async_read_some(asio::buffer(in.data() + have, in.size() - have),
                                       asio::redirect_error(asio::use_awaitable, ec));
    size_t n = co_await std::move(read);
    if (ec) co_return;
    have += n;
    size_t pos = 0;
    while (have - pos >= 4) {
      size_t size = static_cast<uint32_t>(proto::load_big_endian<int32_t>(in.data() + pos));
      if (size > frame_bytes_max) co_return;
      if (have - pos - 4 < size) {
        if (size + 4 > in.size()) in.resize(size + 4);
        break;
      }
      if (!s.handle(std::span<const uint8_t>(in.data() + pos + 4, size), out)) co_return;
      pos += 4 + size;
    }
    std::memmove(in.data(), in.data() + pos, have - pos);
    have -= pos;
    if (!out.empty()) {
      auto write = asio::async_write(socket, asio::buffer(out),
                                     asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(write);
      if (ec) co_return;
      out.clear();
    }
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, sink& s) {
  for (;;) {
    auto accept = acceptor.async_accept(asio::use_awaitable);
    tcp::socket socket = co_await std::move(accept);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), s), asio::detached);
  }
}

}  // namespace
}  // namespace sluice::bench::null_sink

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  int port = 0;
  int32_t partitions = 1;
  CLI::App app{"null_sink: a Kafka-protocol server that stores nothing"};
  app.add_option("--host", host, "address to listen on")->capture_default_str();
  app.add_option("--port", port, "port; 0 picks a free one")->capture_default_str();
  app.add_option("--partitions", partitions, "partitions of a topic not created explicitly")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  asio::io_context io(1);
  asio::ip::tcp::acceptor acceptor(io);
  asio::ip::tcp::endpoint ep(asio::ip::make_address(host), static_cast<uint16_t>(port));
  acceptor.open(ep.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(4096);
  int bound = acceptor.local_endpoint().port();
  sluice::bench::null_sink::sink s(host, bound, partitions);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code&, int) { io.stop(); });
  asio::co_spawn(io, sluice::bench::null_sink::accept_loop(acceptor, s), asio::detached);
  std::printf("listening on %s:%d\n", host.c_str(), bound);
  std::fflush(stdout);
  io.run();
  return 0;
}
