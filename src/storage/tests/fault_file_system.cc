#include "storage/tests/fault_file_system.h"

#include <cerrno>

namespace sluice::storage::testing {

namespace {

class fault_file final : public file {
 public:
  fault_file(fault_file_system& fs, std::unique_ptr<file> real) : _fs(fs), _real(std::move(real)) {}

  sresult<size_t> pread(uint64_t position, std::span<uint8_t> out) override {
    bool fail = false;
    size_t n = _fs.read_limit(out.size(), fail);
    if (fail) return failure(errno_error(EIO, "injected read error " + path()));
    return _real->pread(position, out.first(n));
  }

  sresult<void> pwrite(uint64_t position, std::span<const uint8_t> data) override {
    auto d = _fs.before_write();
    if (d.fail) {
      if (d.torn && data.size() > 1) {
        auto half = data.first(data.size() / 2);
        if (_real->pwrite(position, half)) _fs.note_write(path(), position + half.size());
      }
      return failure(errno_error(d.sys_errno, "injected write failure " + path()));
    }
    auto r = _real->pwrite(position, data);
    _fs.note_write(path(), position + data.size());
    return r;
  }

  sresult<void> fdatasync() override {
    bool real = true;
    if (!_fs.before_sync(real)) return failure(errno_error(EIO, "injected fdatasync failure"));
    auto size = _real->size();
    if (!size) return failure(size.error());
    auto r = real ? _real->fdatasync() : sresult<void>();
    if (r) _fs.note_sync(path(), *size);
    return r;
  }

  sresult<void> truncate(uint64_t size_bytes) override {
    auto r = _real->truncate(size_bytes);
    if (r) _fs.note_truncate(path(), size_bytes);
    return r;
  }

  sresult<uint64_t> size() override { return _real->size(); }
  int fd() const override { return _real->fd(); }
  const std::string& path() const override { return _real->path(); }

 private:
  fault_file_system& _fs;
  std::unique_ptr<file> _real;
};

}  // namespace

void fault_file_system::fail_write_after(int n, int sys_errno, bool torn) {
  std::lock_guard lock(_mutex);
  _fail_write_at = _writes + n;
  _fail_write_errno = sys_errno;
  _fail_write_torn = torn;
}

void fault_file_system::set_disk_full(bool full) {
  std::lock_guard lock(_mutex);
  _disk_full = full;
}

void fault_file_system::fail_next_syncs(int count) {
  std::lock_guard lock(_mutex);
  _failing_syncs = count;
}

void fault_file_system::set_short_reads(size_t bytes_max) {
  std::lock_guard lock(_mutex);
  _read_bytes_max = bytes_max;
}

void fault_file_system::set_read_errors(bool on) {
  std::lock_guard lock(_mutex);
  _read_errors = on;
}

void fault_file_system::crash() {
  std::lock_guard lock(_mutex);
  for (auto& [path, state] : _files) {
    if (!state.dirty || !_real.exists(path)) continue;
    (void)_real.truncate(path, state.synced_size);
    state.dirty = false;
  }
}

int fault_file_system::writes() const {
  std::lock_guard lock(_mutex);
  return _writes;
}

int fault_file_system::syncs() const {
  std::lock_guard lock(_mutex);
  return _syncs;
}

sresult<std::unique_ptr<file>> fault_file_system::open(const std::string& path, open_mode mode) {
  bool existed = _real.exists(path);
  auto f = _real.open(path, mode);
  if (!f) return failure(f.error());
  {
    std::lock_guard lock(_mutex);
    if (!_files.contains(path)) {
      // A file that existed before we saw it counts as synced as it is.
      uint64_t size = 0;
      if (existed) {
        auto s = (*f)->size();
        size = s ? *s : 0;
      }
      _files[path] = file_state{size, !existed};
    }
  }
  return std::unique_ptr<file>(std::make_unique<fault_file>(*this, std::move(*f)));
}

sresult<void> fault_file_system::rename(const std::string& from, const std::string& to) {
  auto r = _real.rename(from, to);
  if (!r) return r;
  std::lock_guard lock(_mutex);
  auto it = _files.find(from);
  if (it != _files.end()) {
    _files[to] = it->second;
    _files.erase(from);
  } else {
    _files.erase(to);
  }
  return r;
}

sresult<void> fault_file_system::unlink(const std::string& path) {
  auto r = _real.unlink(path);
  std::lock_guard lock(_mutex);
  _files.erase(path);
  return r;
}

sresult<void> fault_file_system::truncate(const std::string& path, uint64_t size_bytes) {
  auto r = _real.truncate(path, size_bytes);
  if (r) note_truncate(path, size_bytes);
  return r;
}

fault_file_system::write_decision fault_file_system::before_write() {
  std::lock_guard lock(_mutex);
  ++_writes;
  if (_disk_full) return {true, false, ENOSPC};
  if (_writes == _fail_write_at) return {true, _fail_write_torn, _fail_write_errno};
  return {};
}

void fault_file_system::set_real_syncs(bool on) {
  std::lock_guard lock(_mutex);
  _real_syncs = on;
}

sresult<void> fault_file_system::sync_dir(const std::string& path) {
  {
    std::lock_guard lock(_mutex);
    if (!_real_syncs) return {};
  }
  return _real.sync_dir(path);
}

bool fault_file_system::before_sync(bool& real) {
  std::lock_guard lock(_mutex);
  ++_syncs;
  real = _real_syncs;
  if (_failing_syncs > 0) {
    --_failing_syncs;
    return false;
  }
  return true;
}

size_t fault_file_system::read_limit(size_t wanted, bool& fail) {
  std::lock_guard lock(_mutex);
  fail = _read_errors;
  if (_read_bytes_max == 0) return wanted;
  return std::min(wanted, _read_bytes_max);
}

void fault_file_system::note_write(const std::string& path, uint64_t end) {
  std::lock_guard lock(_mutex);
  _files[path].dirty = true;
}

void fault_file_system::note_sync(const std::string& path, uint64_t size_bytes) {
  std::lock_guard lock(_mutex);
  auto& state = _files[path];
  state.synced_size = size_bytes;
}

void fault_file_system::note_truncate(const std::string& path, uint64_t size_bytes) {
  std::lock_guard lock(_mutex);
  auto& state = _files[path];
  // A truncation is metadata; we model it as durable only once the file is synced again, but a
  // shrink can never resurrect bytes, so the synced size shrinks with it.
  state.synced_size = std::min(state.synced_size, size_bytes);
  state.dirty = true;
}

}  // namespace sluice::storage::testing
