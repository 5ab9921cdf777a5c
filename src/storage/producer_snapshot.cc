#include "storage/producer_snapshot.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/logging.h"
#include "protocol/crc32c.h"
#include "storage/format.h"

namespace sluice::storage {

namespace {
void put_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
}  // namespace

sresult<void> write_producer_snapshot(file_system& fs, const std::string& dir, model::offset offset,
                                      std::span<const uint8_t> blob) {
  SLUICE_ASSERT(blob.size() < checkpoint_size_max, "producer snapshot of {} bytes", blob.size());
  std::vector<uint8_t> bytes(producer_snapshot_header_size + blob.size());
  put_u32(bytes.data(), producer_snapshot_magic);
  put_u16(bytes.data() + 4, producer_snapshot_version);
  put_u32(bytes.data() + 6, static_cast<uint32_t>(blob.size()));
  put_u32(bytes.data() + 10, protocol::crc32c(blob));
  std::copy(blob.begin(), blob.end(), bytes.begin() + producer_snapshot_header_size);
  return write_file_atomically(fs, join_path(dir, offset_file_name(offset, snapshot_suffix)),
                               bytes);
}

sresult<std::vector<model::offset>> list_producer_snapshots(file_system& fs,
                                                            const std::string& dir) {
  auto names = fs.list_dir(dir);
  if (!names) return failure(names.error());
  std::vector<model::offset> out;
  for (const auto& name : *names) {
    if (auto offset = parse_offset_file_name(name, snapshot_suffix)) out.push_back(*offset);
  }
  std::sort(out.begin(), out.end());
  return out;
}

sresult<std::optional<producer_snapshot>> read_latest_producer_snapshot(file_system& fs,
                                                                        const std::string& dir,
                                                                        model::offset offset_max) {
  auto offsets = list_producer_snapshots(fs, dir);
  if (!offsets) return failure(offsets.error());
  for (auto it = offsets->rbegin(); it != offsets->rend(); ++it) {
    if (*it > offset_max) continue;
    auto path = join_path(dir, offset_file_name(*it, snapshot_suffix));
    auto bytes = read_whole_file(fs, path, checkpoint_size_max);
    if (!bytes) return failure(bytes.error());
    const auto& b = *bytes;
    bool ok = b.size() >= producer_snapshot_header_size &&
              get_u32(b.data()) == producer_snapshot_magic &&
              ((b[4] << 8) | b[5]) == producer_snapshot_version &&
              get_u32(b.data() + 6) == b.size() - producer_snapshot_header_size;
    std::span<const uint8_t> blob;
    if (ok) {
      blob = std::span<const uint8_t>(b).subspan(producer_snapshot_header_size);
      ok = protocol::crc32c(blob) == get_u32(b.data() + 10);
    }
    if (!ok) {
      logger("storage")->error("producer snapshot {} is corrupt; ignoring it", path);
      continue;
    }
    return std::optional<producer_snapshot>(
        producer_snapshot{*it, std::vector<uint8_t>(blob.begin(), blob.end())});
  }
  return std::optional<producer_snapshot>{};
}

sresult<void> clean_producer_snapshots(file_system& fs, const std::string& dir,
                                       model::offset offset, size_t keep) {
  auto offsets = list_producer_snapshots(fs, dir);
  if (!offsets) return failure(offsets.error());
  size_t kept = 0;
  for (auto it = offsets->rbegin(); it != offsets->rend(); ++it) {
    bool remove = *it > offset || kept++ >= keep;
    if (!remove) continue;
    auto r = fs.unlink(join_path(dir, offset_file_name(*it, snapshot_suffix)));
    if (!r && r.error().code != errc::not_found) return r;
  }
  return {};
}

}  // namespace sluice::storage
