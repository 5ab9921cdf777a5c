#pragma once

// One named logger per subsystem ("server", "storage", ...), all writing to stderr through
// spdlog. Lifecycle events log at info, per-request detail at debug/trace. Secrets are never
// logged.

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace sluice {

// Returns the logger for a subsystem, creating it on first use. Thread-safe.
std::shared_ptr<spdlog::logger> logger(const std::string& subsystem);

// Sets the level of every logger, present and future ("trace" ... "off"). Returns false for an
// unknown level name.
bool set_log_level(const std::string& level);

}  // namespace sluice
