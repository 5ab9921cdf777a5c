#include "server/http/exposition.h"

#include <fmt/format.h>

#include "base/assert.h"

namespace sluice::server::metrics {

namespace {

// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; label names have no ':'.
bool valid_name(std::string_view name, bool colon_allowed) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(letter || (digit && i > 0) || (c == ':' && colon_allowed))) return false;
  }
  return true;
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && quote)
      out += "\\\"";
    else
      out += c;
  }
}

}  // namespace

void exposition::family(std::string_view name, metric_type type, std::string_view help) {
  SLUICE_ASSERT(valid_name(name, true), "bad metric name '{}'", name);
  SLUICE_ASSERT(type != metric_type::counter || name.ends_with("_total"),
                "counter '{}' must end in _total", name);
  _family = name;
  _text += "# HELP ";
  _text += name;
  _text += ' ';
  append_escaped(_text, help, false);
  _text += "\n# TYPE ";
  _text += name;
  _text += type == metric_type::counter ? " counter\n" : " gauge\n";
}

void exposition::sample(std::string_view name, std::initializer_list<label> labels,
                        uint64_t value) {
  SLUICE_ASSERT(name == _family, "sample '{}' outside its family (last family '{}')", name,
                _family);
  _text += name;
  if (labels.size() > 0) {
    _text += '{';
    bool first = true;
    for (const auto& l : labels) {
      SLUICE_ASSERT(valid_name(l.name, false), "bad label name '{}' on {}", l.name, name);
      if (!first) _text += ',';
      first = false;
      _text += l.name;
      _text += "=\"";
      append_escaped(_text, l.value, true);
      _text += '"';
    }
    _text += '}';
  }
  _text += fmt::format(" {}\n", value);
}

}  // namespace sluice::server::metrics
