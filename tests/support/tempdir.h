// A temporary directory removed (recursively) when the object goes away, even when a test fails.
#pragma once

#include <string>

namespace gn::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

std::string read_text(const std::string& path);

// Runs a shell command line; its exit code (-1 when it did not exit) and its standard output.
struct CommandResult {
  int code = -1;
  std::string out;
};
CommandResult run_command(const std::string& shell_command);
void write_text(const std::string& path, const std::string& text);

}  // namespace gn::test
