#pragma once

// A minimal JSON object writer for the benchmark programs' --json output: flat keys and nested
// objects, numbers and strings. Enough for figures; not a general JSON library.

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::bench {

class json_writer {
 public:
  json_writer() { _out = "{"; }

  json_writer& num(std::string_view key, double v) {
    this->key(key);
    if (std::isfinite(v)) {
      _out += fmt::format("{:.6g}", v);
    } else {
      _out += "null";
    }
    return *this;
  }
  json_writer& integer(std::string_view key, int64_t v) {
    this->key(key);
    _out += std::to_string(v);
    return *this;
  }
  json_writer& str(std::string_view key, std::string_view v) {
    this->key(key);
    quote(v);
    return *this;
  }
  json_writer& boolean(std::string_view key, bool v) {
    this->key(key);
    _out += v ? "true" : "false";
    return *this;
  }
  json_writer& begin(std::string_view key) {
    this->key(key);
    _out += "{";
    _first = true;
    return *this;
  }
  json_writer& end() {
    _out += "}";
    _first = false;
    return *this;
  }
  std::string finish() { return _out + "}"; }

 private:
  void key(std::string_view k) {
    if (!_first) _out += ",";
    _first = false;
    quote(k);
    _out += ":";
  }
  void quote(std::string_view s) {
    _out += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') {
        _out += '\\';
        _out += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        _out += fmt::format("\\u{:04x}", static_cast<int>(c));
      } else {
        _out += c;
      }
    }
    _out += '"';
  }

  std::string _out;
  bool _first = true;
};

}  // namespace sluice::bench
