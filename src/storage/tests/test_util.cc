#include "storage/tests/test_util.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "base/logging.h"
#include "protocol/batch_builder.h"
#include "storage/batch.h"

namespace sluice::storage::testing {

namespace {
// Tests log only warnings and errors unless SLUICE_TEST_LOG names a level.
const bool log_level_set = [] {
  const char* level = std::getenv("SLUICE_TEST_LOG");
  return set_log_level(level != nullptr ? level : "warn");
}();
}  // namespace

temp_dir::temp_dir(bool memory) {
  const char* base = std::getenv("TMPDIR");
  std::string root = base != nullptr ? base : "/tmp";
  if (memory && std::filesystem::is_directory("/dev/shm")) root = "/dev/shm";
  std::string pattern = root + "/sluice-storage-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  SLUICE_ASSERT(::mkdtemp(buffer.data()) != nullptr, "mkdtemp {}", pattern);
  _path = buffer.data();
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(_path, ec);
}

std::vector<uint8_t> make_batch(int records, size_t value_bytes, int64_t timestamp_ms,
                                uint64_t seed, int key_base) {
  protocol::batch_builder builder;
  std::vector<uint8_t> value(value_bytes);
  for (int i = 0; i < records; ++i) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(i) + 1;
    for (auto& b : value) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      b = static_cast<uint8_t>(x);
    }
    std::string key = fmt::format("k{}", key_base + i);
    builder.add(timestamp_ms + i, protocol::bytes_of(key), std::span<const uint8_t>(value));
  }
  return builder.build();
}

std::vector<uint8_t> make_kv_batch(const std::vector<kv>& records, int64_t timestamp_ms) {
  protocol::batch_builder builder;
  for (const auto& r : records) {
    std::optional<std::span<const uint8_t>> value;
    if (r.value) value = protocol::bytes_of(*r.value);
    builder.add(timestamp_ms, protocol::bytes_of(r.key), value);
  }
  return builder.build();
}

std::vector<uint8_t> read_all(log& l, model::offset start) {
  std::vector<uint8_t> out;
  model::offset next = start;
  while (next < l.log_end_offset()) {
    auto r = l.read(next, 1 << 20, l.log_end_offset(), true);
    SLUICE_ASSERT(r.has_value(), "read at {}: {}", next.value(), r.error().describe());
    if (!r->range) break;
    std::vector<uint8_t> chunk(r->range->length);
    auto n = read_exact(*r->range->log, r->range->position, chunk);
    SLUICE_ASSERT(n && *n == chunk.size(), "short read");
    // Keep whole batches only, as a consumer would.
    size_t pos = 0;
    while (pos + batch_peek_bytes <= chunk.size()) {
      auto info = parse_batch_header(std::span<const uint8_t>(chunk).subspan(pos));
      SLUICE_ASSERT(info.has_value(), "unparsable batch served at {}", next.value());
      if (pos + info->size_bytes > chunk.size()) break;
      out.insert(out.end(), chunk.begin() + static_cast<ptrdiff_t>(pos),
                 chunk.begin() + static_cast<ptrdiff_t>(pos + info->size_bytes));
      next = info->last_offset + 1;
      pos += info->size_bytes;
    }
    if (pos == 0) break;
  }
  return out;
}

std::vector<std::vector<uint8_t>> split_batches(const std::vector<uint8_t>& bytes) {
  std::vector<std::vector<uint8_t>> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    auto info = parse_batch_header(std::span<const uint8_t>(bytes).subspan(pos));
    SLUICE_ASSERT(info.has_value() && pos + info->size_bytes <= bytes.size(), "bad batch at {}",
                  pos);
    out.emplace_back(bytes.begin() + static_cast<ptrdiff_t>(pos),
                     bytes.begin() + static_cast<ptrdiff_t>(pos + info->size_bytes));
    pos += info->size_bytes;
  }
  return out;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string read_file_or_empty(const std::string& path) {
  auto b = read_file_bytes(path);
  return std::string(b.begin(), b.end());
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

log_open_options test_options(int64_t* clock_ms, bool clean, model::offset recovery_point) {
  log_open_options o;
  o.clean_shutdown = clean;
  o.recovery_point = recovery_point;
  o.clock = [clock_ms] { return *clock_ms; };
  return o;
}

}  // namespace sluice::storage::testing
