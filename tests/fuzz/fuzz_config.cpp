// libFuzzer: /etc/guest-nettune/guest-nettune.conf. Any file gives options or an error value
// (exit 2 naming the file); nothing throws past parse_cli, and parsing is deterministic.
// fuzz-links: nettune
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cli.h"

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}
const std::string& config_path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/gn-fuzz-config-" + std::to_string(getpid()) + ".conf";
  }();
  return path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(config_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  const char* commands[] = {"plan", "apply", "revert", "status"};
  const char* command = commands[size ? data[0] % 4 : 0];
  const std::vector<std::string> args = {"--root", "/nonexistent-gn-fuzz-root", "--config", config_path()};
  auto first = gn::parse_cli(command, args);
  auto second = gn::parse_cli(command, args);
  require(first.ok() == second.ok());
  if (!first) {
    require(!first.error().text().empty());
    require(first.error().target.find(config_path()) != std::string::npos || !first.error().message.empty());
  }
  return 0;
}
