// Running a program and measuring its peak memory. wait4()'s ru_maxrss for a child counts the
// peak of the process image its exec replaced, so a child spawned from a test process that has
// held 100 MiB reports at least 100 MiB. The programs are therefore spawned by a small launcher
// process forked before main(), while this test binary is still a few MiB.
#pragma once

#include <string>
#include <vector>

namespace gn::test {

// Peak-RSS bounds hold for the normal build only. Under ASan the allocator keeps freed blocks in
// its quarantine (256 MiB by default) and pads every block with redzones, so a program's peak
// says nothing about what it holds: those tests still check behaviour and print the figure.
#ifdef GN_SANITIZED
inline constexpr bool kPeakRssIsBounded = false;
#else
inline constexpr bool kPeakRssIsBounded = true;
#endif

struct Spawned {
  int code = -1;            // exit code, or -signal
  bool hung = false;        // outlived the limit and was killed (SIGKILL to its own pid)
  long peak_rss_kib = 0;    // ru_maxrss from wait4()
  long floor_rss_kib = 0;   // the launcher's own peak: the child's figure cannot be lower
  double seconds = 0;
};

// Runs argv[0] with stdout and stderr into the given files; kills it after limit_ms.
Spawned spawn_measured(const std::vector<std::string>& argv, const std::string& out_path,
                       const std::string& err_path, int limit_ms);

}  // namespace gn::test
