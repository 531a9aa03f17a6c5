// SysRoot: the one gateway to /sys, /proc and the agent's own state files. It owns the root
// directory ("/" in production, a snapshot with --root DIR) and every path handed to it is
// relative to that root ("sys/class/net"). No other code builds a /sys or /proc path.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "kernel_paths.h"
#include "result.h"

namespace gn {

struct DirEntry {
  enum class Type { File, Dir, Link, Other };
  std::string name;
  Type type = Type::Other;
};

// Told of everything the probe reads, so that `capture` can copy exactly that.
class ReadRecorder {
 public:
  virtual ~ReadRecorder() = default;
  virtual void file(const std::string& rel, const std::string& content) = 0;
  virtual void unreadable(const std::string& rel, int err) = 0;
  virtual void link(const std::string& rel, const std::string& target) = 0;
  virtual void dir(const std::string& rel, const std::vector<DirEntry>& entries) = 0;
};

class SysRoot {
 public:
  explicit SysRoot(std::string root = "/");

  const std::string& root() const { return root_; }
  // True when the root is not "/": a snapshot, whose channels live in files.
  bool is_snapshot() const { return root_ != "/"; }
  // The path a user would recognise in a message: "/sys/..." or "ROOT/sys/...".
  std::string display(const std::string& rel) const;
  // The path to hand to the operating system.
  std::string host_path(const std::string& rel) const;

  Result<std::string> read(const std::string& rel) const;
  // Reads a file a line at a time (each without its '\n'), never holding all of it: for files
  // too large to hold (/proc/interrupts of a wide guest). Stops at the first error `each`
  // returns and returns that error; errors of the file itself name it.
  using EachLine = std::function<Result<void>(std::string_view line)>;
  Result<void> read_lines(const std::string& rel, const EachLine& each) const;
  // Entries sorted by name; "." and ".." left out. With a `prefix`, only those whose names
  // start with it (a capture still records them all).
  Result<std::vector<DirEntry>> list(const std::string& rel, std::string_view prefix = {}) const;
  Result<std::string> readlink(const std::string& rel) const;
  // The path with every symbolic link resolved inside the root.
  Result<std::string> resolve(const std::string& rel) const;
  bool exists(const std::string& rel) const;
  // Whether a process runs whose name is `name`, asked at every run, on guests where most of a
  // hundred processes are kernel threads; in the order /proc lists them, until the first match.
  // On the live system a process's name is its program's file name (one readlink of
  // /proc/PID/exe, which a kernel thread does not have), or its comm where that link may not be
  // read (another user's process, for a caller that is not root). In a snapshot it is the
  // recorded ROOT/proc/PID/comm, trimmed, read with one read() into a small buffer; a capture
  // records the comm, and a snapshot with unreadable files reads them as read() does.
  bool any_process_named(std::string_view name) const;
  // One write() of the whole text, as `echo > file` does.
  Result<void> write(const std::string& rel, const std::string& text) const;

  // A run that will write keeps the targets it reads open, so that each is opened once: after
  // keep_targets(), read_target() opens a file for reading and writing (where it may be
  // written), reads it and keeps it open, at most `max` files (and RLIMIT_NOFILE's soft limit,
  // raised to the hard limit, less a reserve); rewrite() of that path, given what was read,
  // then writes and reads back on that open file. Past the cap, or for a file that does not
  // open for writing, read_target() is read() and rewrite() opens the file again. The files
  // rewrite() is done with stay open too, within the same cap: every file kept or done with is
  // closed with the last copy of the SysRoot, a system call for each run of consecutive
  // descriptors instead of one for each file.
  void keep_targets(size_t max) const;
  Result<std::string> read_target(const std::string& rel) const;
  // How many files are kept open now (for tests).
  size_t kept_targets() const;

  // Reads the file, asks `text_for` what to write given what it holds (nothing when it returns
  // nullopt), writes that with one write() and reads back what the file then holds: all on
  // one open file. `read_before` is what read_target() read from the file, trimmed: when the
  // file is kept open, it is not read again but written and read back on the kept file.
  // Without it (nullptr) the file is opened and read now, and a kept one is closed unused.
  struct Rewrite {
    std::string before;  // as read, trimmed
    bool written = false;
    std::string after;   // as read back, trimmed (== before when nothing was written)
  };
  using TextFor = std::function<Result<std::optional<std::string>>(std::string_view now)>;
  Result<Rewrite> rewrite(const std::string& rel, const TextFor& text_for,
                          const std::string_view* read_before = nullptr) const;

  void set_recorder(ReadRecorder* r) { recorder_ = r; }

 private:
  class DirCache;
  class KeptFiles;
  // open(2) of ROOT/rel, or openat(2) relative to a kept directory (see DirCache).
  int open_file(const std::string& rel, int flags) const;
  Result<std::string> resolve_recorded(const std::string& rel) const;
  // Hands the file's bytes to `chunk` as they are read (one read() each); records the file.
  using EachChunk = std::function<Result<void>(std::string_view bytes)>;
  Result<void> read_chunks(const std::string& rel, const EachChunk& chunk) const;
  Error sys_error(const std::string& rel, const std::string& what, int err) const;

  std::string root_;
  ReadRecorder* recorder_ = nullptr;
  std::map<std::string, int> unreadable_;  // snapshot: files that failed to read at capture
  std::shared_ptr<DirCache> dirs_;         // shared by copies: the descriptors are closed once
  std::shared_ptr<KeptFiles> kept_;        // the same
};

}  // namespace gn
