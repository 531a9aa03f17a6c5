// guest-nettune-host: parse, open the agent channel (a socket, or libvirt), run, exit with a
// code that says what failed.
#include <malloc.h>

#include <iostream>

#include "advise_cli.h"
#include "host_cli.h"
#include "neutralise.h"
#include "socket_channel.h"
#ifdef GN_HAVE_LIBVIRT
#include "libvirt_channel.h"
#endif

namespace {
int run(int argc, char** argv);
}

int main(int argc, char** argv) {
  // A guest's reply can be tens of MiB, read and parsed in buffers of several MiB: give every
  // block over 1 MiB a mapping of its own, returned when freed. (By default glibc raises this
  // threshold as big blocks are freed, and later ones land in a heap that does not shrink.)
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "guest-nettune-host: " << gn::qga::neutralise(e.what()) << "\n";
    return 1;
  }
}

namespace {
int run(int argc, char** argv) {
  using namespace gn::qga;
  // advise: the hypervisor and domain half of the guide (read only), its own options.
  if (argc > 1 && std::string(argv[1]) == "advise")
    return gn::advise::advise_command(std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
  auto opts = parse_host_args(std::vector<std::string>(argv + 1, argv + argc));
  if (!opts) {
    std::cerr << "guest-nettune-host: " << neutralise(opts.error().text()) << "\n";
    return host_exit::kUsage;
  }
  if (opts->help) {
    std::cout << host_help();
    return host_exit::kOk;
  }
  if (!opts->socket.empty()) {
    SocketChannel channel(opts->socket);
    return run_host_command(*opts, channel, std::cout, std::cerr);
  }
#ifdef GN_HAVE_LIBVIRT
  auto conn = LibvirtConnection::open(opts->connect);
  if (!conn) {
    std::cerr << "guest-nettune-host: " << neutralise(conn.error().text()) << "\n";
    return host_exit::kNoAgent;
  }
  if (opts->all) {
    auto names = (*conn)->running_domains();
    if (!names) {
      std::cerr << "guest-nettune-host: " << neutralise(names.error().text()) << "\n";
      return host_exit::kNoAgent;
    }
    std::vector<DomainChannel> domains;
    for (const auto& name : *names) {
      auto ch = LibvirtChannel::open(*conn, name);
      if (ch) domains.push_back({name, std::move(*ch), {}});
      else domains.push_back({name, nullptr, ch.error().text()});
    }
    return run_host_all(*opts, domains, std::cout, std::cerr);
  }
  auto channel = LibvirtChannel::open(*conn, opts->domain);
  if (!channel) {
    std::cerr << "guest-nettune-host: " << neutralise(channel.error().text()) << "\n";
    return host_exit::kUsage;
  }
  return run_host_command(*opts, **channel, std::cout, std::cerr);
#else
  std::cerr << "guest-nettune-host: this build has no libvirt support: use --socket PATH\n";
  return host_exit::kUsage;
#endif
}
}  // namespace
