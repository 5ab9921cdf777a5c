#include "storage/format.h"

#include <fmt/format.h>

#include <charconv>

namespace sluice::storage {

std::string offset_file_name(model::offset base, std::string_view suffix) {
  return fmt::format("{:020d}{}", base.value(), suffix);
}

std::optional<model::offset> parse_offset_file_name(std::string_view name,
                                                    std::string_view suffix) {
  if (name.size() != file_name_digits + suffix.size()) return std::nullopt;
  if (name.substr(file_name_digits) != suffix) return std::nullopt;
  int64_t value = 0;
  auto digits = name.substr(0, file_name_digits);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || value < 0) return std::nullopt;
  return model::offset(value);
}

std::string partition_dir_name(const model::topic_partition& tp) {
  return fmt::format("{}-{}", tp.topic, tp.partition.value());
}

std::optional<model::topic_partition> parse_partition_dir_name(std::string_view name) {
  auto dash = name.find_last_of('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
  int32_t partition = 0;
  auto digits = name.substr(dash + 1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), partition);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || partition < 0) {
    return std::nullopt;
  }
  return model::topic_partition{std::string(name.substr(0, dash)), model::partition_id(partition)};
}

}  // namespace sluice::storage
