// sluice: the broker binary. `sluice start [server.properties] [--override key=value]...` starts
// a broker as Kafka's kafka-server-start.sh does, with Kafka's configuration keys.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "base/logging.h"
#include "base/properties.h"
#include "config/broker_config.h"
#include "server/broker.h"

namespace {

constexpr const char* version = "0.1.0";

std::string config_help() {
  std::string out = "\nConfiguration keys (Kafka's names; default in brackets):\n";
  for (const auto& def : sluice::config::broker_config_defs()) {
    std::string def_text = def.default_value ? std::string(*def.default_value) : "null";
    out += fmt::format(
        "  {} [{}]{}\n      {}\n", def.name, def_text,
        def.status == sluice::config::key_status::accepted ? " (accepted, no effect)" : "",
        def.doc);
  }
  return out;
}

// Merges the file's keys with the overrides (overrides win) and builds the configuration.
int load_config(const std::string& file, const std::vector<std::string>& overrides,
                std::optional<sluice::config::broker_config>& out) {
  sluice::properties props;
  if (!file.empty()) {
    auto parsed = sluice::read_properties_file(file);
    if (!parsed) {
      auto& e = parsed.error();
      if (e.line > 0)
        std::fprintf(stderr, "sluice: error: %s:%d: %s\n", file.c_str(), e.line, e.message.c_str());
      else
        std::fprintf(stderr, "sluice: error: %s\n", e.message.c_str());
      return 1;
    }
    props = std::move(*parsed);
  }
  for (const auto& o : overrides) {
    auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "sluice: error: --override '%s' is not key=value\n", o.c_str());
      return 1;
    }
    props[o.substr(0, eq)] = o.substr(eq + 1);
  }
  auto cfg = sluice::config::broker_config::from_properties(props);
  if (!cfg) {
    std::fprintf(stderr, "sluice: error: %s\n", cfg.error().message.c_str());
    return 1;
  }
  out.emplace(std::move(*cfg));
  return 0;
}

int run_broker(const sluice::config::broker_config& cfg) {
  // Block the stop signals in every thread; the main thread waits for them with sigwait. SIGPIPE
  // is ignored: a peer that goes away is an error on the socket, not a reason to die.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto log = sluice::logger("broker");
  log->info("Sluice {} starting", version);
  auto broker = sluice::server::broker::start(cfg);
  if (!broker) {
    log->error("cannot start: {}", broker.error());
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  log->info("received {}", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  (*broker)->stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sluice: an event-streaming broker that speaks the Apache Kafka protocol."};
  app.require_subcommand(1);
  app.set_version_flag("--version", version);

  auto* start = app.add_subcommand("start", "Start a broker (as kafka-server-start.sh does).");
  std::string file;
  std::vector<std::string> overrides;
  std::string log_level = "info";
  start->add_option("server.properties", file, "Configuration file in Kafka's format (optional)");
  start->add_option("--override", overrides, "Set a configuration key: --override key=value")
      ->type_name("KEY=VALUE");
  start->add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  start->footer(config_help());

  CLI11_PARSE(app, argc, argv);

  if (!sluice::set_log_level(log_level)) {
    std::fprintf(stderr, "sluice: error: unknown log level '%s'\n", log_level.c_str());
    return 1;
  }
  std::optional<sluice::config::broker_config> cfg;
  if (int rc = load_config(file, overrides, cfg); rc != 0) return rc;
  return run_broker(*cfg);
}
