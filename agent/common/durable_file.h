// Atomic, durable replacement of a small file: temp file, fsync, rename, fsync the directory.
// A crash at any instant leaves either the old or the new content, never a mix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

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
// Reads a whole file; error code ENOENT when it does not exist, EFBIG when it holds more than
// max_bytes (the file is input: a huge one is refused, not read into memory).
Result<std::string> read_small_file(const std::string& path, size_t max_bytes = SIZE_MAX);
// mkdir -p with mode 0755; the error names the directory.
Result<void> make_directories(const std::string& dir);

}  // namespace gn
