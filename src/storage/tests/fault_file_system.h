#pragma once

// A file_system for tests that forwards to the POSIX one and injects faults: the Nth write from
// now fails (optionally after writing half of its bytes, a torn write), writes fail with ENOSPC,
// the next fdatasync fails, reads come back short, and crash() drops every byte that was not
// fdatasync'ed, as a power loss would.
//
// It models lost file contents only. A rename or unlink that was not followed by sync_dir() is
// kept by crash(); the code under test still calls sync_dir() at the right places, and the real
// file system provides the ordering.
//
// Thread-safe: the group-commit flusher calls fdatasync() from its own thread.

#include <map>
#include <mutex>

#include "storage/file_system.h"

namespace sluice::storage::testing {

class fault_file_system final : public file_system {
 public:
  fault_file_system() = default;

  // The write that is `n` writes from now (1 = the next one) fails with `sys_errno`. A torn
  // failure writes the first half of the bytes before failing.
  void fail_write_after(int n, int sys_errno, bool torn = false);
  // Every write fails with ENOSPC until cleared.
  void set_disk_full(bool full);
  // The next `count` fdatasync calls fail with EIO and keep nothing.
  void fail_next_syncs(int count);
  // Every pread returns at most `bytes_max` bytes (0: no limit).
  void set_short_reads(size_t bytes_max);
  // Every pread fails with EIO while set.
  void set_read_errors(bool on);
  // With false, fdatasync and sync_dir do everything but the system call (fast tests whose
  // subject is not durability).
  void set_real_syncs(bool on);
  // Truncates every file written through this file system to the size it had at its last
  // fdatasync (0 if never synced), as if the machine had lost power. Open files stay usable.
  void crash();

  int writes() const;
  int syncs() const;

  sresult<std::unique_ptr<file>> open(const std::string& path, open_mode mode) override;
  sresult<void> rename(const std::string& from, const std::string& to) override;
  sresult<void> unlink(const std::string& path) override;
  sresult<void> truncate(const std::string& path, uint64_t size_bytes) override;
  sresult<void> mkdir(const std::string& path) override { return _real.mkdir(path); }
  sresult<void> rmdir(const std::string& path) override { return _real.rmdir(path); }
  sresult<std::vector<std::string>> list_dir(const std::string& path) override {
    return _real.list_dir(path);
  }
  sresult<void> sync_dir(const std::string& path) override;
  sresult<uint64_t> file_size(const std::string& path) override { return _real.file_size(path); }
  bool exists(const std::string& path) override { return _real.exists(path); }

  // Called by the files this file system opened.
  struct write_decision {
    bool fail = false;
    bool torn = false;
    int sys_errno = 0;
  };
  write_decision before_write();
  // Returns false to fail the sync; `real` says whether to make the system call.
  bool before_sync(bool& real);
  size_t read_limit(size_t wanted, bool& fail);
  void note_write(const std::string& path, uint64_t end);
  void note_sync(const std::string& path, uint64_t size_bytes);
  void note_truncate(const std::string& path, uint64_t size_bytes);

 private:
  struct file_state {
    uint64_t synced_size = 0;
    bool dirty = false;
  };

  file_system& _real = posix_file_system();
  mutable std::mutex _mutex;
  std::map<std::string, file_state> _files;
  int _writes = 0;
  int _syncs = 0;
  int _fail_write_at = -1;
  int _fail_write_errno = 0;
  bool _fail_write_torn = false;
  bool _disk_full = false;
  int _failing_syncs = 0;
  size_t _read_bytes_max = 0;
  bool _read_errors = false;
  bool _real_syncs = true;
};

}  // namespace sluice::storage::testing
