#pragma once

// The broker's data directories (log.dirs): each is created if missing, locked against a second
// broker with flock(2) on `.lock`, and carries Kafka's `meta.properties` (cluster.id, node.id,
// directory.id, version) so that a directory cannot silently move between clusters or nodes.

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace sluice::server {

class data_dirs {
 public:
  // Opens every directory; fails with a message naming the directory when one cannot be created,
  // written, or locked, or when its meta.properties belongs to another node or cluster.
  static result<data_dirs, std::string> open(const std::vector<std::string>& dirs, int32_t node_id);
  data_dirs(data_dirs&& other) noexcept;
  data_dirs& operator=(data_dirs&&) = delete;
  ~data_dirs();  // releases the locks

  const std::string& cluster_id() const { return _cluster_id; }
  const std::vector<std::string>& paths() const { return _paths; }

 private:
  data_dirs() = default;
  std::string _cluster_id;
  std::vector<std::string> _paths;
  std::vector<int> _lock_fds;
};

}  // namespace sluice::server
