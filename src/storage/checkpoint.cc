#include "storage/checkpoint.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>

#include "protocol/crc32c.h"
#include "storage/format.h"

namespace sluice::storage {

namespace {

uint32_t text_crc(std::string_view text) {
  return protocol::crc32c({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

error corrupt(const std::string& path, std::string_view why) {
  return make_error(errc::corrupt, fmt::format("checkpoint {}: {}", path, why));
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    auto space = line.find(' ');
    fields.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return fields;
}

}  // namespace

sresult<void> write_checkpoint(file_system& fs, const std::string& path,
                               const std::vector<std::string>& lines) {
  std::string text = fmt::format("{}\n{}\n", checkpoint_version, lines.size());
  for (const auto& line : lines) {
    SLUICE_ASSERT(line.find('\n') == std::string::npos, "newline in checkpoint line '{}'", line);
    text += line;
    text += '\n';
  }
  text += fmt::format("crc32c {:08x}\n", text_crc(text));
  return write_file_atomically(fs, path,
                               {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

sresult<std::vector<std::string>> read_checkpoint(file_system& fs, const std::string& path) {
  auto bytes = read_whole_file(fs, path, checkpoint_size_max);
  if (!bytes) return failure(bytes.error());
  std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  if (text.empty() || text.back() != '\n') return failure(corrupt(path, "no final newline"));
  auto crc_at = text.rfind("crc32c ");
  if (crc_at == std::string_view::npos || (crc_at != 0 && text[crc_at - 1] != '\n')) {
    return failure(corrupt(path, "no crc32c line"));
  }
  uint32_t stored = 0;
  auto hex = text.substr(crc_at + 7, text.size() - crc_at - 8);
  auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), stored, 16);
  if (hex.size() != 8 || ec != std::errc() || ptr != hex.data() + hex.size() ||
      stored != text_crc(text.substr(0, crc_at))) {
    return failure(corrupt(path, "crc32c mismatch"));
  }
  std::vector<std::string> lines;
  std::string_view body = text.substr(0, crc_at);
  while (!body.empty()) {
    auto nl = body.find('\n');
    lines.emplace_back(body.substr(0, nl));
    body.remove_prefix(nl + 1);
  }
  int version = -1;
  size_t count = 0;
  if (lines.size() < 2 || !parse_number(lines[0], version) || version != checkpoint_version) {
    return failure(corrupt(path, "bad version line"));
  }
  if (!parse_number(lines[1], count) || count != lines.size() - 2) {
    return failure(corrupt(path, "bad count line"));
  }
  lines.erase(lines.begin(), lines.begin() + 2);
  return lines;
}

sresult<void> write_offset_checkpoint(file_system& fs, const std::string& path,
                                      const offset_map& offsets) {
  std::vector<std::string> lines;
  lines.reserve(offsets.size());
  for (const auto& [tp, offset] : offsets) {
    lines.push_back(fmt::format("{} {} {}", tp.topic, tp.partition.value(), offset.value()));
  }
  return write_checkpoint(fs, path, lines);
}

sresult<offset_map> read_offset_checkpoint(file_system& fs, const std::string& path) {
  auto lines = read_checkpoint(fs, path);
  if (!lines) return failure(lines.error());
  offset_map out;
  for (const auto& line : *lines) {
    auto fields = split(line);
    int32_t partition = 0;
    int64_t offset = 0;
    if (fields.size() != 3 || !parse_number(fields[1], partition) ||
        !parse_number(fields[2], offset) || offset < 0) {
      return failure(corrupt(path, fmt::format("bad entry '{}'", line)));
    }
    out[{std::string(fields[0]), model::partition_id(partition)}] = model::offset(offset);
  }
  return out;
}

sresult<void> write_epoch_checkpoint(file_system& fs, const std::string& path,
                                     const std::vector<epoch_entry>& entries) {
  std::vector<std::string> lines;
  for (const auto& e : entries) {
    lines.push_back(fmt::format("{} {}", e.epoch.value(), e.start_offset.value()));
  }
  return write_checkpoint(fs, path, lines);
}

sresult<std::vector<epoch_entry>> read_epoch_checkpoint(file_system& fs, const std::string& path) {
  auto lines = read_checkpoint(fs, path);
  if (!lines) return failure(lines.error());
  std::vector<epoch_entry> out;
  for (const auto& line : *lines) {
    auto fields = split(line);
    int32_t epoch = 0;
    int64_t offset = 0;
    if (fields.size() != 2 || !parse_number(fields[0], epoch) || !parse_number(fields[1], offset) ||
        epoch < 0 || offset < 0) {
      return failure(corrupt(path, fmt::format("bad entry '{}'", line)));
    }
    epoch_entry e{model::leader_epoch(epoch), model::offset(offset)};
    if (!out.empty() && (e.epoch <= out.back().epoch || e.start_offset < out.back().start_offset)) {
      return failure(corrupt(path, "entries out of order"));
    }
    out.push_back(e);
  }
  return out;
}

}  // namespace sluice::storage
