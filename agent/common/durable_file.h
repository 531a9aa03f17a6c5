// Atomic, durable replacement of a small file: temp file, fsync, rename, fsync the directory.
// A crash at any instant leaves either the old or the new content, never a mix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "result.h"

namespace gn {

Result<void> write_file_atomically(const std::string& path, const std::string& content);
// The same atomic replacement without the fsyncs, for a file of the run directory (/run, gone
// at every boot): readers see the old or the new content, never a mix.
Result<void> replace_file(const std::string& path, const std::string& content);
// The same two, with the content written onto the temp file's stream by `write` (a document too
// big to hold as one text). A failed write is reported after `write` returns, and `write` runs
// to its end whatever the file does (it may send the same bytes elsewhere too). If `write`
// throws, the old file stays, the temp file is removed, and the exception goes on.
Result<void> write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);
Result<void> replace_file(const std::string& path, const std::function<void(std::ostream&)>& write);
// Removes temp files that a killed run left beside `path` ("PATH.tmp.*").
void remove_stale_temp_files(const std::string& path);
// A file read a block at a time, for a reader that needs only the bytes ahead of it (a journal
// of a wide guest is megabytes, and status reads it at every run).
class FileBlocks {
 public:
  // Opens `path` to read; error code ENOENT when it does not exist. Reading more than max_bytes
  // is an error (EFBIG): the file is input, and a huge one is refused, not read.
  static Result<FileBlocks> open(const std::string& path, size_t max_bytes = SIZE_MAX);
  FileBlocks(FileBlocks&& o) noexcept;
  FileBlocks& operator=(FileBlocks&&) = delete;
  FileBlocks(const FileBlocks&) = delete;
  FileBlocks& operator=(const FileBlocks&) = delete;
  ~FileBlocks();

  // The next block of the file: valid until the next call; empty at the end of the file and
  // after a failed read (error() then says what failed).
  std::string_view next();
  // The file's size when it was opened (a hint: the file may change while it is read).
  size_t size_at_open() const { return size_; }
  // The failed read or the size past max_bytes, naming the file; nullptr while all is well.
  const Error* error() const { return error_ ? &*error_ : nullptr; }

 private:
  FileBlocks(std::string path, int fd, size_t size, size_t max_bytes);
  std::string path_;
  int fd_ = -1;
  size_t size_ = 0, max_bytes_ = 0, read_ = 0;
  std::string buf_;
  std::optional<Error> error_;
};
// Reads a whole file; error code ENOENT when it does not exist, EFBIG when it holds more than
// max_bytes (the file is input: a huge one is refused, not read into memory).
Result<std::string> read_small_file(const std::string& path, size_t max_bytes = SIZE_MAX);
// mkdir -p with mode 0755; the error names the directory.
Result<void> make_directories(const std::string& dir);

}  // namespace gn
