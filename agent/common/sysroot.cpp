#include "sysroot.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "cpuset.h"

namespace gn {

namespace {
std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : p) {
    if (c == '/') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string join_path(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) {
    if (!s.empty()) s += '/';
    s += p;
  }
  return s;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};
}  // namespace

// Descriptors (O_PATH) of the directories that many files are opened under: a NIC's queues,
// /proc/irq, /proc/sys/net. Opening "rx-5/rps_cpus" relative to the NIC's queues directory walks
// two names instead of the whole path with /sys/class/net's link in it, which is most of what
// opening a sysfs file costs. The directory is the one two levels above the file; it is kept
// once two files in a row are opened below it (the probe, apply and revert go NIC by NIC), at
// most kMaxDirs of them; every other file is opened by its path. A kept directory that goes
// away (its NIC unregistered) makes later opens below it fail with ENOENT, as the path would.
class SysRoot::DirCache {
 public:
  DirCache() = default;
  DirCache(const DirCache&) = delete;
  DirCache& operator=(const DirCache&) = delete;
  ~DirCache() {
    for (const auto& kept : fds_) ::close(kept.second);
  }

  // The kept descriptor of `dir` (a host path), opened now if `dir` was also the last one
  // asked for; -1 when it is not kept.
  int fd_for(std::string_view dir) {
    std::lock_guard<std::mutex> hold(mutex_);
    // Files come directory by directory: the one found last is asked for again, without a copy
    // of its name or a lookup.
    if (hit_fd_ >= 0 && dir == hit_dir_) return hit_fd_;
    if (!fds_.empty()) {
      std::string name(dir);
      if (auto it = fds_.find(name); it != fds_.end()) {
        hit_fd_ = it->second;
        hit_dir_ = std::move(name);
        return hit_fd_;
      }
    }
    if (dir != last_) {
      last_.assign(dir.data(), dir.size());  // in the room the last one had: no allocation
      return -1;
    }
    if (fds_.size() >= kMaxDirs) return -1;
    const int fd = ::open(last_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    fds_.emplace(last_, fd);
    hit_fd_ = fd;
    hit_dir_ = last_;
    return fd;
  }

 private:
  static constexpr size_t kMaxDirs = 64;
  std::mutex mutex_;
  std::unordered_map<std::string, int> fds_;
  std::string last_;     // the directory asked for last
  std::string hit_dir_;  // the kept directory found last, and its descriptor (-1: none yet)
  int hit_fd_ = -1;
};

namespace {
// Closes every descriptor of `fds` (each open and owned by the caller): one close_range(2) for
// each run of consecutive numbers, a close(2) for each where that is not there (before 5.9).
void close_all(std::vector<int>& fds) {
  std::sort(fds.begin(), fds.end());
  for (size_t i = 0; i < fds.size();) {
    size_t j = i + 1;
    while (j < fds.size() && fds[j] == fds[j - 1] + 1) ++j;
    bool closed = false;
#ifdef SYS_close_range
    if (j - i > 1)
      closed = ::syscall(SYS_close_range, static_cast<unsigned>(fds[i]), static_cast<unsigned>(fds[j - 1]), 0u) == 0;
#endif
    if (!closed)
      for (size_t k = i; k < j; ++k) ::close(fds[k]);
    i = j;
  }
  fds.clear();
}
}  // namespace

// Targets a run that will write read and keeps open (see keep_targets), by path relative to
// the root. Each is taken out when rewrite() uses it; the files rewrite() is done with, and the
// kept ones it never used, are closed together with the last copy of the SysRoot: the kernel
// does the same work for each file, without a system call for each.
class SysRoot::KeptFiles {
 public:
  KeptFiles() = default;
  KeptFiles(const KeptFiles&) = delete;
  KeptFiles& operator=(const KeptFiles&) = delete;
  ~KeptFiles() {
    for (const auto& e : entries_)
      if (e.fd >= 0) done_.push_back(e.fd);
    close_all(done_);
  }

  void enable(size_t max) {
    std::lock_guard<std::mutex> hold(mutex_);
    max_ = max;
  }
  bool enabled() {
    std::lock_guard<std::mutex> hold(mutex_);
    return max_ > 0;
  }
  // Keeps `fd` for `rel`; false (the caller closes it) when full or `rel` is kept already.
  bool keep(const std::string& rel, int fd) {
    std::lock_guard<std::mutex> hold(mutex_);
    if (live_ + done_.size() >= max_) return false;
    if (2 * (entries_.size() + 1) > slots_.size()) grow();
    const Key key = key_of(rel, true);
    uint32_t& slot = slot_of(key);
    if (slot != 0) {  // kept before and taken since: kept again
      Entry& e = entries_[slot - 1];
      if (e.fd >= 0) return false;
      e.fd = fd;
    } else {
      entries_.push_back({store(key.tail), static_cast<uint16_t>(key.tail.size()), key.dir, fd});
      slot = static_cast<uint32_t>(entries_.size());
    }
    ++live_;
    return true;
  }
  // Takes `fd`, which the caller is done with, to close with the rest; false (the caller closes
  // it now) when nothing is kept or the cap is reached.
  bool retire(int fd) {
    std::lock_guard<std::mutex> hold(mutex_);
    if (live_ + done_.size() >= max_) return false;
    done_.push_back(fd);
    return true;
  }
  // The kept descriptor of `rel`, now the caller's; -1 when there is none.
  int take(const std::string& rel) {
    std::lock_guard<std::mutex> hold(mutex_);
    if (live_ == 0) return -1;
    const Key key = key_of(rel, false);
    if (key.dir == kNoDir) return -1;
    const uint32_t slot = slot_of(key);
    if (slot == 0 || entries_[slot - 1].fd < 0) return -1;
    --live_;
    return std::exchange(entries_[slot - 1].fd, -1);
  }
  size_t size() {
    std::lock_guard<std::mutex> hold(mutex_);
    return live_;
  }

 private:
  // A path is kept as its directory two levels up (a NIC's queues, proc/irq: a few, each kept
  // once in dirs_) and the rest ("rx-5/rps_cpus", "24/smp_affinity", in blocks that never move),
  // with its descriptor (-1 once taken). A wide guest keeps 20k of them: 16 bytes each and the
  // rest's 15 characters, where whole paths took 40 and a hash map of strings 100 more.
  struct Entry {
    const char* tail;
    uint16_t tail_size;
    uint16_t dir;  // in dirs_
    int fd;
  };
  struct Key {
    uint16_t dir;
    std::string_view tail;
  };
  static constexpr size_t kBlockBytes = 65536;
  static constexpr uint16_t kNoDir = UINT16_MAX;

  // The key of `rel`: its directory's number, given one now when `add`, or kNoDir when it has
  // none (nothing under it is kept). Past 65534 directories a new one's paths are kept whole,
  // under the directory "" (as is a path with no directory two levels up).
  Key key_of(std::string_view rel, bool add) {
    const auto file = rel.rfind('/');
    const auto cut = file == std::string_view::npos || file == 0 ? std::string_view::npos : rel.rfind('/', file - 1);
    std::string_view dir, tail = rel;
    if (cut != std::string_view::npos) dir = rel.substr(0, cut), tail = rel.substr(cut + 1);
    if (tail.size() > UINT16_MAX) return {kNoDir, rel};
    if (dirs_.empty()) dirs_.emplace_back();  // 0: ""
    if (dirs_[last_dir_] == dir) return {last_dir_, tail};
    for (uint16_t d = 0; d < dirs_.size(); ++d)
      if (dirs_[d] == dir) return {last_dir_ = d, tail};
    if (dirs_.size() >= kNoDir) return rel.size() > UINT16_MAX ? Key{kNoDir, rel} : Key{0, rel};
    if (!add) return {kNoDir, tail};
    dirs_.emplace_back(dir);
    last_dir_ = static_cast<uint16_t>(dirs_.size() - 1);
    return {last_dir_, tail};
  }
  // The tail's characters, kept in blocks that never move.
  const char* store(std::string_view tail) {
    if (paths_.empty() || block_used_ + tail.size() > block_size_) {
      block_size_ = std::max(kBlockBytes, tail.size());
      paths_.push_back(std::make_unique<char[]>(block_size_));
      block_used_ = 0;
    }
    char* at = paths_.back().get() + block_used_;
    std::memcpy(at, tail.data(), tail.size());
    block_used_ += tail.size();
    return at;
  }
  static size_t hash(const Key& k) { return std::hash<std::string_view>{}(k.tail) ^ (size_t{k.dir} * 0x9e3779b97f4a7c15ULL); }
  // The slot that holds the key's entry, or the empty slot where it would go (open addressing,
  // linear probing; slots_ is never more than half full).
  uint32_t& slot_of(const Key& k) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash(k) & mask;; i = (i + 1) & mask) {
      uint32_t& slot = slots_[i];
      if (slot == 0) return slot;
      const Entry& e = entries_[slot - 1];
      if (e.dir == k.dir && e.tail_size == k.tail.size() && std::memcmp(e.tail, k.tail.data(), k.tail.size()) == 0)
        return slot;
    }
  }
  void grow() {
    slots_.assign(std::max<size_t>(64, 2 * slots_.size()), 0);
    for (size_t k = 0; k < entries_.size(); ++k)
      slot_of({entries_[k].dir, std::string_view(entries_[k].tail, entries_[k].tail_size)}) = static_cast<uint32_t>(k + 1);
  }

  std::mutex mutex_;
  size_t max_ = 0;
  size_t live_ = 0;  // entries holding a descriptor
  std::vector<Entry> entries_;
  std::vector<uint32_t> slots_;  // an entry's place + 1; 0: empty
  std::vector<std::string> dirs_;  // the directories of the entries, 0 being ""
  uint16_t last_dir_ = 0;          // the one found last (files come directory by directory)
  std::vector<std::unique_ptr<char[]>> paths_;
  size_t block_used_ = 0, block_size_ = 0;
  std::vector<int> done_;  // retired: to close at the end
};

int SysRoot::open_file(const std::string& rel, int flags) const {
  const std::string path = host_path(rel);
  const auto file = path.rfind('/');
  const auto dir = file == std::string::npos || file == 0 ? std::string::npos : path.rfind('/', file - 1);
  if (dir != std::string::npos && dir > 0) {
    const int at = dirs_->fd_for(std::string_view(path).substr(0, dir));
    if (at >= 0) return ::openat(at, path.c_str() + dir + 1, flags);
  }
  return ::open(path.c_str(), flags);
}

SysRoot::SysRoot(std::string root)
    : root_(std::move(root)), dirs_(std::make_shared<DirCache>()), kept_(std::make_shared<KeptFiles>()) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  if (root_.empty()) root_ = "/";
  if (is_snapshot()) {
    // Files that existed but could not be read when the snapshot was taken: "ERRNO PATH" lines.
    auto text = read(paths::kSnapshotUnreadable);
    if (text) {
      std::istringstream in(*text);
      int err = 0;
      std::string path;
      while (in >> err >> path) unreadable_[path] = err;
    }
  }
}

std::string SysRoot::host_path(const std::string& rel) const {
  return root_ == "/" ? "/" + rel : root_ + "/" + rel;
}

std::string SysRoot::display(const std::string& rel) const { return host_path(rel); }

Error SysRoot::sys_error(const std::string& rel, const std::string& what, int err) const {
  return make_error(display(rel), what + ": " + std::strerror(err), {}, err);
}

Result<std::string> SysRoot::resolve_recorded(const std::string& rel) const {
  if (recorder_ == nullptr) return rel;
  return resolve(rel);
}

Result<std::string> SysRoot::resolve(const std::string& rel) const {
  std::vector<std::string> todo = split_path(rel);
  std::reverse(todo.begin(), todo.end());  // a stack: next component at the back
  std::vector<std::string> done;
  int hops = 0;
  while (!todo.empty()) {
    std::string c = todo.back();
    todo.pop_back();
    if (c == ".") continue;
    if (c == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(c);
    const std::string cur = join_path(done);
    struct stat st {};
    if (::lstat(host_path(cur).c_str(), &st) != 0) {
      // A missing tail is not an error here: the caller's open() reports it.
      for (auto it = todo.rbegin(); it != todo.rend(); ++it) done.push_back(*it);
      return join_path(done);
    }
    if (!S_ISLNK(st.st_mode)) continue;
    if (++hops > 40) return sys_error(rel, "resolving links", ELOOP);
    auto target = readlink(cur);
    if (!target) return target.error();
    done.pop_back();
    if (!target->empty() && target->front() == '/') done.clear();
    const auto parts = split_path(*target);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.push_back(*it);
  }
  return join_path(done);
}

Result<void> SysRoot::read_chunks(const std::string& rel, const EachChunk& chunk) const {
  // Only a capture resolves links (to record the files where they are): no copy of the path
  // otherwise.
  std::optional<Result<std::string>> resolved_for_recorder;
  if (recorder_ != nullptr) {
    resolved_for_recorder = resolve(rel);
    if (!*resolved_for_recorder) return resolved_for_recorder->error();
  }
  const std::string* resolved = resolved_for_recorder ? &**resolved_for_recorder : &rel;
  if (!unreadable_.empty()) {
    auto canonical = resolve(rel);
    if (!canonical) return canonical.error();
    if (auto it = unreadable_.find(*canonical); it != unreadable_.end()) {
      // A capture of this snapshot keeps the file unreadable with the same errno.
      if (recorder_ != nullptr) recorder_->unreadable(*resolved, it->second);
      return sys_error(rel, "reading", it->second);
    }
  }
  Fd fd(open_file(*resolved, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    if (recorder_ != nullptr) recorder_->unreadable(*resolved, err);
    return sys_error(rel, "opening", err);
  }
  std::string recorded;  // only for a capture
  char buf[65536];
  const bool sysfs = resolved->size() > paths::kSys.size() && resolved->compare(0, paths::kSys.size(), paths::kSys) == 0 &&
                     (*resolved)[paths::kSys.size()] == '/';
  while (true) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      if (recorder_ != nullptr) recorder_->unreadable(*resolved, err);
      return sys_error(rel, "reading", err);
    }
    if (n == 0) break;
    const std::string_view bytes(buf, static_cast<size_t>(n));
    if (recorder_ != nullptr) recorded.append(bytes);
    if (auto r = chunk(bytes); !r) return r.error();
    // A sysfs attribute (at most a page) comes whole in one read: no need to ask again.
    if (sysfs && static_cast<size_t>(n) < sizeof buf) break;
  }
  if (recorder_ != nullptr) recorder_->file(*resolved, recorded);
  return {};
}

Result<std::string> SysRoot::read(const std::string& rel) const {
  std::string out;
  auto r = read_chunks(rel, [&](std::string_view bytes) -> Result<void> {
    out.append(bytes);
    return {};
  });
  if (!r) return r.error();
  return out;
}

Result<void> SysRoot::read_lines(const std::string& rel, const EachLine& each) const {
  std::string carry;  // the start of a line that the next read() ends
  auto r = read_chunks(rel, [&](std::string_view bytes) -> Result<void> {
    for (size_t nl = bytes.find('\n'); nl != std::string_view::npos; nl = bytes.find('\n')) {
      Result<void> line;
      if (carry.empty()) {
        line = each(bytes.substr(0, nl));
      } else {
        carry.append(bytes.substr(0, nl));
        line = each(carry);
        carry.clear();
      }
      if (!line) return line;
      bytes.remove_prefix(nl + 1);
    }
    carry.append(bytes);
    return {};
  });
  if (!r) return r;
  if (!carry.empty()) return each(carry);
  return {};
}

Result<std::vector<DirEntry>> SysRoot::list(const std::string& rel, std::string_view prefix) const {
  auto resolved = resolve_recorded(rel);
  if (!resolved) return resolved.error();
  DIR* d = ::opendir(host_path(*resolved).c_str());
  if (d == nullptr) return sys_error(rel, "listing", errno);
  std::vector<DirEntry> out;
  const auto wanted = [&](std::string_view name) { return name.substr(0, prefix.size()) == prefix; };
  while (struct dirent* e = ::readdir(d)) {
    const std::string_view view = e->d_name;
    if (view == "." || view == "..") continue;
    if (recorder_ == nullptr && !wanted(view)) continue;
    DirEntry de{std::string(view), DirEntry::Type::Other};
    unsigned char t = e->d_type;
    if (t == DT_UNKNOWN) {
      struct stat st {};
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
        t = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
    }
    if (t == DT_DIR) de.type = DirEntry::Type::Dir;
    else if (t == DT_REG) de.type = DirEntry::Type::File;
    else if (t == DT_LNK) de.type = DirEntry::Type::Link;
    out.push_back(std::move(de));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  if (recorder_ != nullptr) {
    recorder_->dir(*resolved, out);
    if (!prefix.empty())
      out.erase(std::remove_if(out.begin(), out.end(), [&](const DirEntry& e) { return !wanted(e.name); }), out.end());
  }
  return out;
}

Result<std::string> SysRoot::readlink(const std::string& rel) const {
  // Resolve the parent only: the link itself is what is asked for.
  std::string at = rel;
  if (recorder_ != nullptr) {
    const auto slash = rel.rfind('/');
    if (slash != std::string::npos) {
      auto parent = resolve(rel.substr(0, slash));
      if (!parent) return parent.error();
      at = *parent + rel.substr(slash);
    }
  }
  char buf[4096];
  const ssize_t n = ::readlink(host_path(at).c_str(), buf, sizeof buf - 1);
  if (n < 0) return sys_error(rel, "reading link", errno);
  std::string target(buf, static_cast<size_t>(n));
  if (recorder_ != nullptr) recorder_->link(at, target);
  return target;
}

bool SysRoot::exists(const std::string& rel) const {
  struct stat st {};
  return ::stat(host_path(rel).c_str(), &st) == 0;
}

namespace {
bool all_digits(const char* s) {
  if (*s == '\0') return false;
  for (; *s != '\0'; ++s)
    if (*s < '0' || *s > '9') return false;
  return true;
}

// The file name of the program a live process runs, from the link PID/exe below `dir` (one
// readlink, where the comm takes an open, a read and a close). A program replaced on disk while
// it runs (a package update) still runs: the kernel's " (deleted)" after its path is dropped.
// Fails with the link's errno: ENOENT for a kernel thread or a process that has just ended,
// EACCES for another user's process when the caller is not root.
std::optional<std::string_view> program_name(int dir, const char* rel, char (&buf)[PATH_MAX], int& err) {
  const ssize_t n = ::readlinkat(dir, rel, buf, sizeof buf);
  if (n < 0) {
    err = errno;
    return std::nullopt;
  }
  std::string_view path(buf, static_cast<size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.size() > kDeleted.size() && path.substr(path.size() - kDeleted.size()) == kDeleted)
    path.remove_suffix(kDeleted.size());
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}
}  // namespace

bool SysRoot::any_process_named(std::string_view name) const {
  const auto named = [&](const Result<std::string>& comm) { return comm && trim(*comm) == name; };
  if (recorder_ != nullptr || !unreadable_.empty()) {
    auto entries = list(paths::kProc);
    if (!entries) return false;
    for (const auto& e : *entries)
      if (e.type == DirEntry::Type::Dir && all_digits(e.name.c_str()) && named(read(paths::kProc + "/" + e.name + "/comm")))
        return true;
    return false;
  }
  DIR* d = ::opendir(host_path(paths::kProc).c_str());
  if (d == nullptr) return false;
  bool found = false;
  while (struct dirent* e = ::readdir(d)) {
    if (!all_digits(e->d_name)) continue;
    if (e->d_type != DT_DIR) {
      struct stat st {};
      if (e->d_type != DT_UNKNOWN || ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISDIR(st.st_mode))
        continue;
    }
    // "PID/exe" or "PID/comm" below the open directory: a name of digits is short.
    char rel[sizeof e->d_name + 8];
    const size_t len = std::strlen(e->d_name);
    std::memcpy(rel, e->d_name, len);
    if (!is_snapshot()) {
      std::memcpy(rel + len, "/exe", 5);
      char link[PATH_MAX];
      int err = 0;
      if (const auto program = program_name(::dirfd(d), rel, link, err)) {
        if ((found = *program == name)) break;
        continue;
      }
      if (err != EACCES && err != EPERM) continue;  // no program: a kernel thread, or it has ended
    }
    std::memcpy(rel + len, "/comm", 6);
    const int fd = ::openat(::dirfd(d), rel, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    // A comm is at most 64 bytes; a file that fills the buffer (a snapshot's) is read whole.
    char buf[256];
    ssize_t n;
    do n = ::read(fd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    ::close(fd);
    if (n < 0) continue;
    found = static_cast<size_t>(n) < sizeof buf ? trim(std::string_view(buf, static_cast<size_t>(n))) == name
                                                : named(read(paths::kProc + "/" + rel));
    if (found) break;
  }
  ::closedir(d);
  return found;
}

Result<void> SysRoot::write(const std::string& rel, const std::string& text) const {
  const int flags = O_WRONLY | O_CLOEXEC | (is_snapshot() ? O_TRUNC : 0);
  Fd fd(open_file(rel, flags));
  if (fd.get() < 0) return sys_error(rel, "opening for writing", errno);
  // A snapshot file holds what the kernel would print back: the value and a newline.
  const std::string data = is_snapshot() && (text.empty() || text.back() != '\n') ? text + "\n" : text;
  const ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) return sys_error(rel, "writing '" + text + "'", errno);
  if (static_cast<size_t>(n) != data.size()) return sys_error(rel, "short write of '" + text + "'", EIO);
  return {};
}

namespace {
// How an open kernel file is read from its start again.
enum class From {
  Here,   // a fresh descriptor: read where it stands
  Seek,   // lseek to 0, then read: some proc files are streams to pread
  Pread,  // pread at 0: a sysfs attribute shows itself again for a read at offset 0
};

// Reads an open kernel file from its start. A short read is the whole file: kernel files (at
// most a page) come in one read.
Result<std::string> read_from_start(int fd, From from) {
  if (from == From::Seek && ::lseek(fd, 0, SEEK_SET) < 0) return make_error("", "seeking", {}, errno);
  std::string out;
  char buf[8192];
  while (true) {
    const ssize_t n = from == From::Pread ? ::pread(fd, buf, sizeof buf, static_cast<off_t>(out.size()))
                                          : ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("", "reading", {}, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof buf) break;
  }
  return out;
}
}  // namespace

void SysRoot::keep_targets(size_t max) const {
  // Every kept file is a descriptor: the soft limit (often 1024) goes up to the hard one, and
  // a reserve stays for everything else the run opens.
  constexpr rlim_t kReserve = 256;
  struct rlimit lim {};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    struct rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  size_t room = max;
  if (lim.rlim_cur != RLIM_INFINITY)
    room = lim.rlim_cur > kReserve ? static_cast<size_t>(lim.rlim_cur - kReserve) : 0;
  kept_->enable(std::min(max, room));
}

size_t SysRoot::kept_targets() const { return kept_->size(); }

Result<std::string> SysRoot::read_target(const std::string& rel) const {
  // A capture records what it reads, and a snapshot's unreadable files keep their errno: both
  // go through read(), as does every read when nothing is kept.
  if (recorder_ != nullptr || !unreadable_.empty() || !kept_->enabled()) return read(rel);
  const int fd = open_file(rel, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return sys_error(rel, "opening", err);
    // No writer behind the file (EACCES, even for root), a read-only root: read it only.
    return read(rel);
  }
  auto text = read_from_start(fd, From::Here);
  if (!text) {
    ::close(fd);
    return sys_error(rel, "reading", text.error().code);
  }
  if (!kept_->keep(rel, fd)) ::close(fd);
  return text;
}

Result<SysRoot::Rewrite> SysRoot::rewrite(const std::string& rel, const TextFor& text_for,
                                          const std::string_view* read_before) const {
  const int kept = kept_->take(rel);
  const bool known = kept >= 0 && read_before != nullptr;
  if (kept >= 0 && !known) ::close(kept);
  // Closed now, or with the kept files when they are closed.
  struct Retired {
    KeptFiles& files;
    int fd;
    int get() const { return fd; }
    ~Retired() {
      if (fd >= 0 && !files.retire(fd)) ::close(fd);
    }
  } fd{*kept_, known ? kept : open_file(rel, O_RDWR | O_CLOEXEC)};
  if (fd.get() < 0) return sys_error(rel, "opening for writing", errno);
  Rewrite r;
  if (known) {
    // Read by read_target() on this open file, under the run's lock.
    r.before = *read_before;
  } else {
    auto now = read_from_start(fd.get(), From::Here);
    if (!now) return sys_error(rel, "reading", now.error().code);
    r.before = std::string(trim(*now));
  }
  auto text = text_for(r.before);
  if (!text) return make_error(display(rel), text.error().message, text.error().hint, text.error().code);
  if (!*text) {
    r.after = r.before;
    return r;
  }
  // A snapshot file holds what the kernel would print back: the value and a newline.
  std::string data = **text;
  if (is_snapshot()) {
    if (data.empty() || data.back() != '\n') data += '\n';
    if (::ftruncate(fd.get(), 0) != 0) return sys_error(rel, "truncating", errno);
  }
  // A sysfs attribute takes a write whole at any offset and shows itself again to a pread at
  // 0: two system calls fewer per file than seeking before each. A sysctl written at an offset
  // other than 0 ignores the write, and a snapshot file would grow: those seek.
  const bool sysfs = !is_snapshot() && rel.rfind(paths::kSys + "/", 0) == 0;
  if (!sysfs && ::lseek(fd.get(), 0, SEEK_SET) < 0) return sys_error(rel, "seeking", errno);
  const ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) return sys_error(rel, "writing '" + **text + "'", errno);
  if (static_cast<size_t>(n) != data.size()) return sys_error(rel, "short write of '" + **text + "'", EIO);
  r.written = true;
  auto back = read_from_start(fd.get(), sysfs ? From::Pread : From::Seek);
  if (!back) return sys_error(rel, "reading back", back.error().code);
  r.after = std::string(trim(*back));
  return r;
}

}  // namespace gn
