#include "server/data_dirs.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/properties.h"
#include "model/model.h"

namespace sluice::server {

namespace {

namespace fs = std::filesystem;
constexpr const char* meta_file = "meta.properties";

// Writes meta.properties through a temporary file and a rename, so a crash leaves either the
// old file or the new one. Returns an error message, empty on success.
std::string write_meta(const std::string& dir, const std::string& cluster_id, int32_t node_id) {
  std::string tmp = dir + "/" + meta_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "#\n#Written by Sluice\n"
        << "cluster.id=" << cluster_id << "\n"
        << "directory.id=" << model::uuid::random().to_base64() << "\n"
        << "node.id=" << node_id << "\n"
        << "version=1\n";
    out.flush();
    if (!out) return fmt::format("cannot write {}: {}", tmp, std::strerror(errno));
  }
  std::error_code ec;
  fs::rename(tmp, dir + "/" + meta_file, ec);
  if (ec) return fmt::format("cannot write {}/{}: {}", dir, meta_file, ec.message());
  return "";
}

}  // namespace

data_dirs::data_dirs(data_dirs&& other) noexcept
    : _cluster_id(std::move(other._cluster_id)),
      _paths(std::move(other._paths)),
      _lock_fds(std::move(other._lock_fds)) {
  other._lock_fds.clear();
}

data_dirs::~data_dirs() {
  for (int fd : _lock_fds) ::close(fd);
}

result<data_dirs, std::string> data_dirs::open(const std::vector<std::string>& dirs,
                                               int32_t node_id) {
  data_dirs out;
  std::vector<std::string> without_meta;
  for (const auto& given : dirs) {
    std::error_code ec;
    fs::create_directories(given, ec);
    if (ec) return failure(fmt::format("cannot create data directory {}: {}", given, ec.message()));
    std::string dir = fs::absolute(given).lexically_normal().string();
    int fd = ::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return failure(
          fmt::format("data directory {} is not writable: {}", dir, std::strerror(errno)));
    out._lock_fds.push_back(fd);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0)
      return failure(fmt::format("data directory {} is in use by another broker", dir));
    out._paths.push_back(dir);

    if (!fs::exists(dir + "/" + meta_file)) {
      without_meta.push_back(dir);
      continue;
    }
    auto meta = read_properties_file(dir + "/" + meta_file);
    if (!meta || !meta->contains("cluster.id"))
      return failure(fmt::format("{}/{} is unreadable or has no cluster.id", dir, meta_file));
    const auto& cluster_id = meta->at("cluster.id");
    if (meta->contains("node.id") && meta->at("node.id") != std::to_string(node_id))
      return failure(fmt::format("{}/{} belongs to node {}, but this broker is node.id={}", dir,
                                 meta_file, meta->at("node.id"), node_id));
    if (!out._cluster_id.empty() && out._cluster_id != cluster_id)
      return failure(fmt::format("data directories belong to different clusters ({} and {})",
                                 out._cluster_id, cluster_id));
    out._cluster_id = cluster_id;
  }
  // A new directory joins the cluster of the others; a brand-new broker makes a cluster id.
  if (out._cluster_id.empty()) out._cluster_id = model::uuid::random().to_base64();
  for (const auto& dir : without_meta) {
    auto error = write_meta(dir, out._cluster_id, node_id);
    if (!error.empty())
      return failure(fmt::format("data directory {} is not writable: {}", dir, error));
  }
  return out;
}

}  // namespace sluice::server
