#pragma once

// Reads Java-style .properties text (the format of Kafka's server.properties): `key=value`,
// `key: value` or `key value`; `#` and `!` start comments; a trailing backslash continues a
// line; \t \n \r \f \uXXXX and `\<char>` escapes. Later keys replace earlier ones.

#include <map>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sluice {

struct properties_error {
  int line = 0;  // 1-based line of the problem; 0 when the file could not be read.
  std::string message;
};

using properties = std::map<std::string, std::string>;

result<properties, properties_error> parse_properties(std::string_view text);
result<properties, properties_error> read_properties_file(const std::string& path);

}  // namespace sluice
