#pragma once

// Assertions for invariants. They stay on in release builds: a broken invariant in a broker that
// stores other people's data must stop the process, not corrupt the log.

#include <fmt/format.h>

#include <source_location>
#include <string>

namespace sluice::detail {
[[noreturn]] void assertion_failed(const char* condition, const std::string& message,
                                   std::source_location where);
}  // namespace sluice::detail

// SLUICE_ASSERT(cond, "format {}", values...): aborts with the values in the message.
#define SLUICE_ASSERT(cond, ...)                                            \
  do {                                                                      \
    if (!(cond)) [[unlikely]] {                                             \
      ::sluice::detail::assertion_failed(#cond, ::fmt::format(__VA_ARGS__), \
                                         std::source_location::current());  \
    }                                                                       \
  } while (0)
