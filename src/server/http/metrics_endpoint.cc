#include "server/http/metrics_endpoint.h"

#include <httplib.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "base/logging.h"
#include "server/http/exposition.h"

namespace sluice::server::metrics {

namespace {

constexpr std::string_view metrics_path = "/metrics";
constexpr time_t io_timeout_s = 5;
constexpr size_t request_body_bytes_max = 8192;

// Runs each accepted connection on the accepting thread: one connection at a time, no queue,
// no pool (see the class comment). The kernel's listen backlog holds the next ones.
class inline_queue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

// SO_REUSEADDR as the Kafka listeners set it, and not cpp-httplib's default SO_REUSEPORT, which
// would let two brokers bind the same port and split the scrapes between them.
void reuse_address_only(socket_t sock) {
  int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace

result<std::optional<http_address>, std::string> parse_listener(const std::string& text) {
  if (text.empty()) return std::optional<http_address>();
  auto bad = [&](std::string_view why) {
    return failure(
        fmt::format("sluice.metrics.listener '{}': {} (expected host:port, "
                    "[ipv6]:port, or empty to disable)",
                    text, why));
  };
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad("an IPv6 address must be in brackets");
  }
  if (host.empty()) return bad("no host (use 0.0.0.0 for every interface)");
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
          c == '_'))
      return bad("the host has a character that is not in a name or address");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535)
    return bad("the port is not a number from 0 to 65535");
  return std::optional<http_address>(http_address{host, static_cast<uint16_t>(port)});
}

metrics_endpoint::metrics_endpoint(http_address bound, std::unique_ptr<httplib::Server> server)
    : _bound(std::move(bound)), _server(std::move(server)) {}

metrics_endpoint::~metrics_endpoint() {
  stop();
}

result<std::unique_ptr<metrics_endpoint>, std::string> metrics_endpoint::bind(
    const http_address& address, page_fn page) {
  auto server = std::make_unique<httplib::Server>();
  server->new_task_queue = [] { return new inline_queue(); };
  server->set_socket_options(reuse_address_only);
  server->set_keep_alive_max_count(1);
  server->set_read_timeout(io_timeout_s, 0);
  server->set_write_timeout(io_timeout_s, 0);
  server->set_payload_max_length(request_body_bytes_max);
  server->set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET" && req.method != "HEAD") {
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      res.set_content("only GET is served here\n", "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.path != metrics_path) {
      res.status = 404;
      res.set_content("not found; the metrics are at /metrics\n", "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server->Get(std::string(metrics_path),
              [page = std::move(page)](const httplib::Request&, httplib::Response& res) {
                res.set_content(page(), std::string(exposition_content_type));
              });

  errno = 0;
  int port = address.port;
  bool bound = false;
  if (address.port == 0) {
    port = server->bind_to_any_port(address.host);
    bound = port > 0;
  } else {
    bound = server->bind_to_port(address.host, address.port);
  }
  if (!bound) {
    int err = errno;
    return failure(fmt::format(
        "cannot bind the metrics listener (sluice.metrics.listener) to {}:{}: {}", address.host,
        address.port, err != 0 ? std::strerror(err) : "the address cannot be resolved or bound"));
  }
  http_address real{address.host, static_cast<uint16_t>(port)};
  return std::unique_ptr<metrics_endpoint>(new metrics_endpoint(real, std::move(server)));
}

void metrics_endpoint::start() {
  _thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "metrics-http");
    bool listened = _server->listen_after_bind();
    _exited.store(true);
    if (!listened)
      logger("broker")->error("metrics listener on {}:{} stopped accepting", _bound.host,
                              _bound.port);
  });
  // stop() only closes a server that is running: wait (briefly; the thread's first step) until
  // it is, so that a stop() right after start() cannot miss it and wait forever.
  while (!_server->is_running() && !_exited.load()) std::this_thread::yield();
}

void metrics_endpoint::stop() {
  if (_server) _server->stop();
  if (_thread.joinable()) _thread.join();
}

}  // namespace sluice::server::metrics
