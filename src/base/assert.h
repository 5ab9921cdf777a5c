#pragma once

// Assertions for invariants. They stay on in release builds: a broken invariant in a broker that
// stores other people's data must stop the process, not corrupt the log.

#include <fmt/format.h>

#include <string>

namespace sluice::detail {
[[noreturn]] void assertion_failed(const char* condition, const std::string& message,
                                   const char* file, int line, const char* function);
}  // namespace sluice::detail

// SLUICE_ASSERT(cond, "format {}", values...): aborts with the values in the message.
#define SLUICE_ASSERT(cond, ...)                                                                \
  do {                                                                                          \
    if (!(cond)) [[unlikely]] {                                                                 \
      ::sluice::detail::assertion_failed(#cond, ::fmt::format(__VA_ARGS__), __FILE__, __LINE__, \
                                         __func__);                                             \
    }                                                                                           \
  } while (0)
