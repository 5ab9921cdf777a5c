#pragma once

// Prometheus' text exposition format, version 0.0.4 (what GET /metrics answers): per metric
// family one `# HELP` line, one `# TYPE` line, then its samples, `name{label="value",...} value`,
// one per line, every line ending in '\n'. Counter names end in `_total`.
//
// Names are chosen by the broker, not by input: a name or label name outside Prometheus'
// character set is a programmer error (an assertion). Label values and help text are escaped
// as the format requires (backslash, double quote in label values, newline).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace sluice::server::metrics {

// The Content-Type of the format.
inline constexpr std::string_view exposition_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

enum class metric_type { counter, gauge };

struct label {
  std::string_view name;
  std::string_view value;
};

class exposition {
 public:
  // Starts a family. Its samples follow with sample(); a family is written once.
  void family(std::string_view name, metric_type type, std::string_view help);
  // A sample of the family last started (same name).
  void sample(std::string_view name, std::initializer_list<label> labels, uint64_t value);
  void sample(std::string_view name, uint64_t value) { sample(name, {}, value); }

  const std::string& text() const { return _text; }
  std::string take() && { return std::move(_text); }

 private:
  std::string _text;
  std::string _family;  // name of the family last started
};

}  // namespace sluice::server::metrics
