// qga-exec {--socket PATH | --domain NAME} [--timeout S] -- PROGRAM [ARGS...]: runs a program in the guest
// through its qemu-guest-agent, prints its output and exits with its exit code (128+signal
// when killed; 125 when the agent could not be reached or could not run it). The VM tests
// read the guest's sysfs with it, independently of guest-nettune's own reports.
#include <iostream>

#include <memory>

#include "guest_exec.h"
#include "socket_channel.h"
#ifdef GN_HAVE_LIBVIRT
#include "libvirt_channel.h"
#endif

int main(int argc, char** argv) {
  std::string socket, domain;
  double timeout = 30;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--socket" && i + 1 < argc) socket = argv[++i];
    else if (a == "--domain" && i + 1 < argc) domain = argv[++i];
    else if (a == "--timeout" && i + 1 < argc) timeout = std::atof(argv[++i]);
    else if (a == "--") { ++i; break; }
    else break;
  }
  if ((socket.empty() && domain.empty()) || i >= argc) {
    std::cerr << "usage: qga-exec {--socket PATH | --domain NAME} [--timeout S] -- PROGRAM [ARGS...]\n";
    return 125;
  }
  std::unique_ptr<gn::qga::AgentChannel> ch;
  if (!socket.empty()) {
    ch = std::make_unique<gn::qga::SocketChannel>(socket);
  } else {
#ifdef GN_HAVE_LIBVIRT
    auto conn = gn::qga::LibvirtConnection::open("qemu:///system");
    auto dom = conn ? gn::qga::LibvirtChannel::open(*conn, domain) : conn.error();
    if (!dom) {
      std::cerr << "qga-exec: " << dom.error().text() << "\n";
      return 125;
    }
    ch = std::move(*dom);
#else
    std::cerr << "qga-exec: built without libvirt\n";
    return 125;
#endif
  }
  const std::vector<std::string> args(argv + i + 1, argv + argc);
  const auto r = gn::qga::run_in_guest(*ch, argv[i], args, gn::qga::Deadline::in_seconds(timeout));
  if (const auto* e = std::get_if<gn::qga::ExecError>(&r)) {
    std::cerr << "qga-exec: " << e->error.text() << "\n";
    return 125;
  }
  const auto& res = std::get<gn::qga::ExecResult>(r);
  std::cout << res.out;
  std::cerr << res.err;
  if (res.signal) return 128 + *res.signal;
  return res.exit_code.value_or(125);
}
