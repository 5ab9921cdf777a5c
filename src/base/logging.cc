#include "base/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "base/assert.h"

namespace sluice {

namespace {
std::mutex logger_mutex;
spdlog::level::level_enum current_level = spdlog::level::info;
}  // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& subsystem) {
  std::lock_guard lock(logger_mutex);
  if (auto existing = spdlog::get(subsystem)) return existing;
  auto created = spdlog::stderr_color_mt(subsystem);
  created->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
  created->set_level(current_level);
  created->flush_on(spdlog::level::info);
  return created;
}

bool set_log_level(const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  std::lock_guard lock(logger_mutex);
  current_level = parsed;
  spdlog::set_level(parsed);
  return true;
}

namespace detail {
void assertion_failed(const char* condition, const std::string& message, const char* file, int line,
                      const char* function) {
  std::fprintf(stderr, "assertion failed: %s (%s) at %s:%u in %s\n", condition, message.c_str(),
               file, line, function);
  std::fflush(stderr);
  std::abort();
}
}  // namespace detail

}  // namespace sluice
