#include "base/properties.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sluice {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\f';
}

// Appends the UTF-8 encoding of a code point below U+10000.
void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Splits one logical line into key and value, resolving escapes.
result<std::pair<std::string, std::string>, std::string> split_entry(std::string_view line) {
  std::string key;
  std::string value;
  std::string* target = &key;
  size_t i = 0;
  bool separator_seen = false;
  while (i < line.size()) {
    char c = line[i];
    if (target == &key && !separator_seen && (c == '=' || c == ':' || is_blank(c))) {
      // Skip blanks, then at most one '=' or ':', then blanks.
      while (i < line.size() && is_blank(line[i])) ++i;
      if (i < line.size() && (line[i] == '=' || line[i] == ':')) ++i;
      while (i < line.size() && is_blank(line[i])) ++i;
      separator_seen = true;
      target = &value;
      continue;
    }
    if (c == '\\' && i + 1 < line.size()) {
      char e = line[i + 1];
      i += 2;
      switch (e) {
        case 't':
          *target += '\t';
          break;
        case 'n':
          *target += '\n';
          break;
        case 'r':
          *target += '\r';
          break;
        case 'f':
          *target += '\f';
          break;
        case 'u': {
          if (i + 4 > line.size()) return failure(std::string("truncated \\u escape"));
          unsigned cp = 0;
          for (int k = 0; k < 4; ++k) {
            char h = line[i + k];
            cp <<= 4;
            if (h >= '0' && h <= '9')
              cp |= h - '0';
            else if (h >= 'a' && h <= 'f')
              cp |= h - 'a' + 10;
            else if (h >= 'A' && h <= 'F')
              cp |= h - 'A' + 10;
            else
              return failure(std::string("bad \\u escape"));
          }
          append_utf8(*target, cp);
          i += 4;
          break;
        }
        default:
          *target += e;
          break;
      }
      continue;
    }
    *target += c;
    ++i;
  }
  return std::pair{std::move(key), std::move(value)};
}

}  // namespace

result<properties, properties_error> parse_properties(std::string_view text) {
  properties out;
  std::string logical;
  int line_number = 0;
  int logical_start = 0;
  bool continuing = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    size_t first = 0;
    while (first < raw.size() && is_blank(raw[first])) ++first;
    raw.remove_prefix(first);
    if (!continuing) {
      if (raw.empty() || raw[0] == '#' || raw[0] == '!') {
        if (end == text.size()) break;
        continue;
      }
      logical_start = line_number;
    }
    // An odd number of trailing backslashes continues the line.
    size_t slashes = 0;
    while (slashes < raw.size() && raw[raw.size() - 1 - slashes] == '\\') ++slashes;
    continuing = slashes % 2 == 1;
    logical.append(continuing ? raw.substr(0, raw.size() - 1) : raw);
    if (!continuing || end == text.size()) {
      auto entry = split_entry(logical);
      if (!entry) return failure(properties_error{logical_start, entry.error()});
      out[std::move(entry->first)] = std::move(entry->second);
      logical.clear();
      continuing = false;
    }
    if (end == text.size()) break;
  }
  return out;
}

result<properties, properties_error> read_properties_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return failure(properties_error{0, path + ": " + std::strerror(errno)});
  std::ostringstream content;
  content << in.rdbuf();
  return parse_properties(content.str());
}

}  // namespace sluice
