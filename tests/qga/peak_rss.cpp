// peak-rss OUT PROGRAM ARGS...: runs PROGRAM with its standard output in OUT and prints
// "exit=N max_rss_kb=M" from wait4's rusage. A test starts this small process rather than the
// program itself because a child's peak RSS includes its parent's memory from before exec.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: peak-rss OUT PROGRAM [ARGS...]\n");
    return 2;
  }
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    const int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || dup2(fd, 1) < 0) _exit(127);
    execv(argv[2], argv + 2);
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  if (wait4(pid, &status, 0, &ru) != pid) return 1;
  std::printf("exit=%d max_rss_kb=%ld\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1, ru.ru_maxrss);
  return 0;
}
