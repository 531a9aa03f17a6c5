#include "clean_spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

extern char** environ;

namespace gn::test {
namespace {

using nlohmann::json;

Spawned run_here(const json& req) {
  std::vector<std::string> argv_s = req["argv"].get<std::vector<std::string>>();
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string out = req["out"], err = req["err"];
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  Spawned r;
  rusage self{};
  ::getrusage(RUSAGE_SELF, &self);
  r.floor_rss_kib = self.ru_maxrss;
  pid_t pid = -1;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return r;
  // A pidfd becomes readable when the process ends: wait for that, with a bound.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  pollfd p{pidfd, POLLIN, 0};
  if (pidfd < 0 || ::poll(&p, 1, req["limit_ms"].get<int>()) == 0) {
    r.hung = pidfd >= 0;
    ::kill(pid, SIGKILL);  // the program itself (posix_spawn, no shell in between)
  }
  if (pidfd >= 0) ::close(pidfd);
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  r.peak_rss_kib = ru.ru_maxrss;
  return r;
}

// One request or answer per datagram (SOCK_SEQPACKET keeps them whole).
std::string receive(int fd) {
  std::string buf(1 << 16, '\0');
  const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
  return n > 0 ? buf.substr(0, static_cast<size_t>(n)) : std::string();
}

[[noreturn]] void serve(int fd) {
  while (true) {
    const std::string req = receive(fd);
    if (req.empty()) ::_exit(0);  // the test binary has gone
    const Spawned r = run_here(json::parse(req));
    const std::string a = json{{"code", r.code}, {"hung", r.hung}, {"peak", r.peak_rss_kib},
                               {"floor", r.floor_rss_kib}, {"seconds", r.seconds}}.dump();
    if (::send(fd, a.data(), a.size(), MSG_NOSIGNAL) < 0) ::_exit(0);
  }
}

int start_launcher() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(sv[0]);
    serve(sv[1]);
  }
  ::close(sv[1]);
  return pid > 0 ? sv[0] : -1;
}

// Forked during static initialisation, before main() and before any test allocates.
const int g_launcher = start_launcher();
std::mutex g_launcher_mu;

}  // namespace

Spawned spawn_measured(const std::vector<std::string>& argv, const std::string& out_path,
                       const std::string& err_path, int limit_ms) {
  if (g_launcher < 0) throw std::runtime_error("no launcher process");
  std::lock_guard<std::mutex> l(g_launcher_mu);
  const std::string req = json{{"argv", argv}, {"out", out_path}, {"err", err_path}, {"limit_ms", limit_ms}}.dump();
  if (::send(g_launcher, req.data(), req.size(), MSG_NOSIGNAL) < 0) throw std::runtime_error("launcher gone");
  const std::string a = receive(g_launcher);
  if (a.empty()) throw std::runtime_error("launcher gone");
  const json j = json::parse(a);
  Spawned r;
  r.code = j["code"];
  r.hung = j["hung"];
  r.peak_rss_kib = j["peak"];
  r.floor_rss_kib = j["floor"];
  r.seconds = j["seconds"];
  return r;
}

}  // namespace gn::test
