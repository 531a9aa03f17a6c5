// The least a program can do to make a plan's writes: each file opened once, read, written and
// read back on that one descriptor (`write`), or only opened and read (`read`, what a no-op
// apply must do to know nothing differs). No journal, no report, no checks: the floor that
// bench/apply_vs_manual.sh prints beside the agent and the shell loop, in the same run.
// Usage: sysfs_floor read|write LIST   (LIST: lines "PATH VALUE"; `read` ignores VALUE)
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "read") != 0 && std::strcmp(argv[1], "write") != 0)) {
    std::fprintf(stderr, "usage: sysfs_floor read|write LIST (lines: PATH VALUE)\n");
    return 2;
  }
  const bool write = std::strcmp(argv[1], "write") == 0;
  std::ifstream list(argv[2]);
  if (!list) {
    std::fprintf(stderr, "sysfs_floor: cannot read %s\n", argv[2]);
    return 1;
  }
  char buf[4096];
  std::string line;
  while (std::getline(list, line)) {
    const size_t space = line.find(' ');
    const std::string path = line.substr(0, space);
    const std::string value = space == std::string::npos ? std::string() : line.substr(space + 1) + "\n";
    const int fd = ::open(path.c_str(), (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0 || ::read(fd, buf, sizeof buf) < 0 ||
        (write && (::pwrite(fd, value.data(), value.size(), 0) != static_cast<ssize_t>(value.size()) ||
                   ::pread(fd, buf, sizeof buf, 0) < 0))) {
      std::fprintf(stderr, "sysfs_floor: %s: %s\n", path.c_str(), std::strerror(errno));
      return 1;
    }
    ::close(fd);
  }
  return 0;
}
