#pragma once

// All operating-system access of the storage subsystem goes through `file_system` and `file`, so
// that tests can inject faults (a failed write, ENOSPC, a failed fsync, short reads, losing every
// unsynced byte in a "crash") without touching the code under test. The real implementation is
// plain POSIX with blocking calls; storage keeps synchronous I/O simple and leaves the question
// of which thread may block to its callers (see README.md, "Threading").

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "storage/error.h"

namespace sluice::storage {

// An open file. Closed by the destructor. A `file` may be used from several threads at once only
// in the pattern the log uses: one thread appends and reads while another calls fdatasync().
class file {
 public:
  virtual ~file() = default;

  // Reads up to out.size() bytes at `position`. Returns the count read, which is short only at
  // the end of the file (or when a fault-injecting file system says so; use read_exact()).
  virtual sresult<size_t> pread(uint64_t position, std::span<uint8_t> out) = 0;
  // Writes all of `data` at `position` or fails; a failure may leave part of it written.
  virtual sresult<void> pwrite(uint64_t position, std::span<const uint8_t> data) = 0;
  virtual sresult<void> fdatasync() = 0;
  virtual sresult<void> truncate(uint64_t size_bytes) = 0;
  virtual sresult<uint64_t> size() = 0;
  // The descriptor, for sendfile(2). Valid as long as this object lives.
  virtual int fd() const = 0;
  virtual const std::string& path() const = 0;
};

enum class open_mode {
  read_only,
  read_write,       // the file must exist
  create,           // create if missing, keep contents otherwise
  create_exclusive  // fail with already_exists if present
};

class file_system {
 public:
  virtual ~file_system() = default;

  virtual sresult<std::unique_ptr<file>> open(const std::string& path, open_mode mode) = 0;
  virtual sresult<void> rename(const std::string& from, const std::string& to) = 0;
  virtual sresult<void> unlink(const std::string& path) = 0;
  virtual sresult<void> truncate(const std::string& path, uint64_t size_bytes) = 0;
  // Creates one directory; succeeds if it exists already.
  virtual sresult<void> mkdir(const std::string& path) = 0;
  virtual sresult<void> rmdir(const std::string& path) = 0;
  // The names in a directory, without "." and "..", in no particular order.
  virtual sresult<std::vector<std::string>> list_dir(const std::string& path) = 0;
  // fsync of a directory, so that a create, rename or unlink inside it survives a crash.
  virtual sresult<void> sync_dir(const std::string& path) = 0;
  virtual sresult<uint64_t> file_size(const std::string& path) = 0;
  virtual bool exists(const std::string& path) = 0;
};

// The POSIX implementation. Stateless and thread-safe; one instance serves the whole process.
file_system& posix_file_system();

// The size of the file system holding `path` and the bytes an unprivileged writer may still use
// there (statvfs f_blocks and f_bavail times f_frsize), the figures Java's FileStore
// getTotalSpace/getUsableSpace give Kafka for DescribeLogDirs. A read-only query of the OS kept
// outside file_system: there is nothing to inject faults into.
struct volume_space {
  uint64_t total_bytes = 0;
  uint64_t usable_bytes = 0;
};
sresult<volume_space> volume_space_of(const std::string& path);

// Reads exactly out.size() bytes unless the file ends first; returns the count read. Loops over
// short reads.
sresult<size_t> read_exact(file& f, uint64_t position, std::span<uint8_t> out);

// Reads a whole small file (checkpoints, snapshots). Fails with `corrupt` above `size_max`, so a
// damaged length can never make us allocate unbounded memory.
sresult<std::vector<uint8_t>> read_whole_file(file_system& fs, const std::string& path,
                                              uint64_t size_max);

// Replaces `path` with `bytes` so that a crash leaves either the old or the new contents: writes
// `path.tmp`, fdatasyncs it, renames it over `path` and fsyncs the directory.
sresult<void> write_file_atomically(file_system& fs, const std::string& path,
                                    std::span<const uint8_t> bytes);

std::string parent_dir(const std::string& path);
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace sluice::storage
