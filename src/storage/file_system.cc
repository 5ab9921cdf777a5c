#include "storage/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::storage {

namespace {

class posix_file final : public file {
 public:
  posix_file(int fd, std::string path) : _fd(fd), _path(std::move(path)) {}
  ~posix_file() override { ::close(_fd); }

  sresult<size_t> pread(uint64_t position, std::span<uint8_t> out) override {
    for (;;) {
      ssize_t n = ::pread(_fd, out.data(), out.size(), static_cast<off_t>(position));
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return failure(errno_error(errno, "pread " + _path));
    }
  }

  sresult<void> pwrite(uint64_t position, std::span<const uint8_t> data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(_fd, data.data() + done, data.size() - done,
                           static_cast<off_t>(position + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return failure(errno_error(errno, "pwrite " + _path));
      // A zero-byte write with no errno is how some file systems report a full disk.
      if (n == 0) return failure(errno_error(ENOSPC, "pwrite " + _path));
      done += static_cast<size_t>(n);
    }
    return {};
  }

  sresult<void> fdatasync() override {
    if (::fdatasync(_fd) != 0) return failure(errno_error(errno, "fdatasync " + _path));
    return {};
  }

  sresult<void> truncate(uint64_t size_bytes) override {
    if (::ftruncate(_fd, static_cast<off_t>(size_bytes)) != 0) {
      return failure(errno_error(errno, "ftruncate " + _path));
    }
    return {};
  }

  sresult<uint64_t> size() override {
    struct stat st {};
    if (::fstat(_fd, &st) != 0) return failure(errno_error(errno, "fstat " + _path));
    return static_cast<uint64_t>(st.st_size);
  }

  int fd() const override { return _fd; }
  const std::string& path() const override { return _path; }

 private:
  int _fd;
  std::string _path;
};

class posix_fs final : public file_system {
 public:
  sresult<std::unique_ptr<file>> open(const std::string& path, open_mode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case open_mode::read_only:
        flags |= O_RDONLY;
        break;
      case open_mode::read_write:
        flags |= O_RDWR;
        break;
      case open_mode::create:
        flags |= O_RDWR | O_CREAT;
        break;
      case open_mode::create_exclusive:
        flags |= O_RDWR | O_CREAT | O_EXCL;
        break;
    }
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return failure(errno_error(errno, "open " + path));
    return std::unique_ptr<file>(std::make_unique<posix_file>(fd, path));
  }

  sresult<void> rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return failure(errno_error(errno, fmt::format("rename {} -> {}", from, to)));
    }
    return {};
  }

  sresult<void> unlink(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return failure(errno_error(errno, "unlink " + path));
    return {};
  }

  sresult<void> truncate(const std::string& path, uint64_t size_bytes) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size_bytes)) != 0) {
      return failure(errno_error(errno, "truncate " + path));
    }
    return {};
  }

  sresult<void> mkdir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return failure(errno_error(errno, "mkdir " + path));
    }
    return {};
  }

  sresult<void> rmdir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return failure(errno_error(errno, "rmdir " + path));
    return {};
  }

  sresult<std::vector<std::string>> list_dir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return failure(errno_error(errno, "opendir " + path));
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    int saved = errno;
    ::closedir(dir);
    if (saved != 0) return failure(errno_error(saved, "readdir " + path));
    return names;
  }

  sresult<void> sync_dir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return failure(errno_error(errno, "open dir " + path));
    int rc = ::fsync(fd);
    int saved = errno;
    ::close(fd);
    if (rc != 0) return failure(errno_error(saved, "fsync dir " + path));
    return {};
  }

  sresult<uint64_t> file_size(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return failure(errno_error(errno, "stat " + path));
    return static_cast<uint64_t>(st.st_size);
  }

  bool exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
};

}  // namespace

file_system& posix_file_system() {
  static posix_fs instance;
  return instance;
}

sresult<size_t> read_exact(file& f, uint64_t position, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    auto n = f.pread(position + done, out.subspan(done));
    if (!n) return failure(n.error());
    if (*n == 0) break;  // end of file
    done += *n;
  }
  return done;
}

sresult<std::vector<uint8_t>> read_whole_file(file_system& fs, const std::string& path,
                                              uint64_t size_max) {
  auto f = fs.open(path, open_mode::read_only);
  if (!f) return failure(f.error());
  auto size = (*f)->size();
  if (!size) return failure(size.error());
  if (*size > size_max) {
    return failure(make_error(errc::corrupt,
                              fmt::format("{} has {} bytes, more than {}", path, *size, size_max)));
  }
  std::vector<uint8_t> bytes(*size);
  auto n = read_exact(**f, 0, bytes);
  if (!n) return failure(n.error());
  bytes.resize(*n);
  return bytes;
}

sresult<void> write_file_atomically(file_system& fs, const std::string& path,
                                    std::span<const uint8_t> bytes) {
  const std::string tmp = path + ".tmp";
  {
    auto f = fs.open(tmp, open_mode::create);
    if (!f) return failure(f.error());
    if (auto r = (*f)->truncate(0); !r) return r;
    if (auto r = (*f)->pwrite(0, bytes); !r) return r;
    if (auto r = (*f)->fdatasync(); !r) return r;
  }
  if (auto r = fs.rename(tmp, path); !r) return r;
  return fs.sync_dir(parent_dir(path));
}

std::string parent_dir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

sresult<volume_space> volume_space_of(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return failure(errno_error(errno, "statvfs " + path));
  return volume_space{static_cast<uint64_t>(st.f_blocks) * st.f_frsize,
                      static_cast<uint64_t>(st.f_bavail) * st.f_frsize};
}

}  // namespace sluice::storage
