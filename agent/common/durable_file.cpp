#include "durable_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <streambuf>
#include <utility>

namespace gn {

namespace {
Error io_error(const std::string& path, const std::string& what, int err) {
  std::string hint;
  if (err == EACCES || err == EPERM || err == EROFS) hint = "run as root, or give a writable --state-dir/--run-dir";
  if (err == ENOSPC) hint = "free some space";
  return make_error(path, what + ": " + std::strerror(err), hint, err);
}
}  // namespace

FileBlocks::FileBlocks(std::string path, int fd, size_t size, size_t max_bytes)
    : path_(std::move(path)), fd_(fd), size_(size), max_bytes_(max_bytes), buf_(65536, '\0') {}

FileBlocks::FileBlocks(FileBlocks&& o) noexcept
    : path_(std::move(o.path_)), fd_(std::exchange(o.fd_, -1)), size_(o.size_), max_bytes_(o.max_bytes_),
      read_(o.read_), buf_(std::move(o.buf_)), error_(std::move(o.error_)) {}

FileBlocks::~FileBlocks() {
  if (fd_ >= 0) ::close(fd_);
}

Result<FileBlocks> FileBlocks::open(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error(path, "opening", errno);
  struct stat st {};
  const size_t size = ::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  return FileBlocks(path, fd, size, max_bytes);
}

std::string_view FileBlocks::next() {
  if (error_ || fd_ < 0) return {};
  ssize_t n;
  do n = ::read(fd_, buf_.data(), buf_.size());
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    error_ = io_error(path_, "reading", errno);
    return {};
  }
  read_ += static_cast<size_t>(n);
  if (read_ > max_bytes_) {
    error_ = make_error(path_, "larger than " + std::to_string(max_bytes_) + " bytes", {}, EFBIG);
    return {};
  }
  return {buf_.data(), static_cast<size_t>(n)};
}

Result<std::string> read_small_file(const std::string& path, size_t max_bytes) {
  auto file = FileBlocks::open(path, max_bytes);
  if (!file) return file.error();
  std::string out;
  for (auto block = file->next(); !block.empty(); block = file->next()) out.append(block);
  if (const Error* e = file->error()) return *e;
  return out;
}

Result<void> make_directories(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return io_error(dir, "creating directory", ec.value());
  return {};
}

namespace {
// A stream onto a file descriptor, unbuffered (the writers send blocks). The first failed write
// is kept and everything after it is accepted and dropped, so that a writer that also sends the
// bytes elsewhere (a tee) is never cut short by this file.
class FdStreamBuf : public std::streambuf {
 public:
  explicit FdStreamBuf(int fd) : fd_(fd) {}
  int error() const { return error_; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    size_t done = 0;
    while (error_ == 0 && done < static_cast<size_t>(n)) {
      const ssize_t w = ::write(fd_, s + done, static_cast<size_t>(n) - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) error_ = errno;
      else done += static_cast<size_t>(w);
    }
    return n;
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    xsputn(&ch, 1);
    return c;
  }

 private:
  int fd_;
  int error_ = 0;
};

// Temp file, rename into place; with `durable`, fsync the file before and the directory after.
Result<void> replace(const std::string& path, const std::function<void(std::ostream&)>& write, bool durable) {
  const std::filesystem::path p(path);
  const std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
  if (auto r = make_directories(dir); !r) return r;
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(tmp, "creating", errno);
  // The temp file given up: the old file stays as it was.
  const auto abandon = [&] {
    ::close(fd);
    ::unlink(tmp.c_str());
  };
  FdStreamBuf buf(fd);
  try {
    std::ostream os(&buf);
    write(os);
  } catch (...) {
    // A writer that stops (out of memory, a renderer's broken invariant): its error goes on to
    // the caller.
    abandon();
    throw;
  }
  if (buf.error() != 0) {
    abandon();
    return io_error(tmp, "writing", buf.error());
  }
  if (durable && ::fsync(fd) != 0) {
    const int err = errno;
    abandon();
    return io_error(tmp, "fsync", err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return io_error(path, "renaming the new version into place", err);
  }
  if (!durable) return {};
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return io_error(dir, "opening to fsync", errno);
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0) return io_error(dir, "fsync", err);
  return {};
}

void write_text(std::ostream& os, const std::string& content) {
  os.write(content.data(), static_cast<std::streamsize>(content.size()));
}
}  // namespace

Result<void> write_file_atomically(const std::string& path, const std::string& content) {
  return replace(path, [&](std::ostream& os) { write_text(os, content); }, /*durable=*/true);
}

Result<void> replace_file(const std::string& path, const std::string& content) {
  return replace(path, [&](std::ostream& os) { write_text(os, content); }, /*durable=*/false);
}

Result<void> write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  return replace(path, write, /*durable=*/true);
}

Result<void> replace_file(const std::string& path, const std::function<void(std::ostream&)>& write) {
  return replace(path, write, /*durable=*/false);
}

void remove_stale_temp_files(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return;  // no directory named: nothing looked at, as before
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  const std::string prefix = path.substr(slash + 1) + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const struct dirent* e = ::readdir(d)) {
    if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) != 0) continue;
    // A file, or an empty directory, as std::filesystem::remove takes them.
    if (::unlinkat(::dirfd(d), e->d_name, 0) != 0 && errno == EISDIR) ::unlinkat(::dirfd(d), e->d_name, AT_REMOVEDIR);
  }
  ::closedir(d);
}

}  // namespace gn
