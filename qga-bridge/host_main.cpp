// guest-nettune-host: parse, open the agent channel (a socket, or libvirt) or every guest's,
// run, exit with a code that says what failed.
#include <malloc.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "advise_cli.h"
#include "durable_file.h"
#include "fleet.h"
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
    std::cerr << "guest-nettune-host: " << gn::neutralise(e.what()) << "\n";
    return 1;
  }
}

namespace {

using namespace gn::qga;
using gn::neutralise;

// The guests asked: every socket matching --sockets, or every running libvirt domain.
int run_fleet(const HostOptions& o, std::ostream& out) {
  std::vector<GuestSource> guests;
  if (!o.sockets.empty()) {
    auto paths = sockets_matching(o.sockets);
    if (!paths) {
      std::cerr << "guest-nettune-host: " << neutralise(paths.error().text()) << "\n";
      return host_exit::kUsage;
    }
    // No guest is a valid answer (a host with no VM running), but a mistyped pattern looks the
    // same: say it where an operator looks.
    if (paths->empty()) std::cerr << "guest-nettune-host: no socket matches --sockets " << neutralise(o.sockets) << "\n";
    for (const auto& p : *paths)
      guests.push_back({p, [p]() -> gn::Result<std::unique_ptr<AgentChannel>> {
                          return std::unique_ptr<AgentChannel>(std::make_unique<SocketChannel>(p, kFleetMaxLine));
                        }});
    return run_host_fleet(o, guests, "sockets", out, std::cerr);
  }
#ifdef GN_HAVE_LIBVIRT
  auto conn = LibvirtConnection::open(o.connect);
  if (!conn) {
    std::cerr << "guest-nettune-host: " << neutralise(conn.error().text()) << "\n";
    return host_exit::kNoAgent;
  }
  auto names = (*conn)->running_domains();
  if (!names) {
    std::cerr << "guest-nettune-host: " << neutralise(names.error().text()) << "\n";
    return host_exit::kNoAgent;
  }
  for (const auto& name : *names)
    guests.push_back({name, [c = *conn, name]() -> gn::Result<std::unique_ptr<AgentChannel>> {
                        auto ch = LibvirtChannel::open(c, name);
                        if (!ch) return ch.error();
                        return std::unique_ptr<AgentChannel>(std::move(*ch));
                      }});
  return run_host_fleet(o, guests, "libvirt", out, std::cerr);
#else
  std::cerr << "guest-nettune-host: this build has no libvirt support: use --sockets GLOB\n";
  return host_exit::kUsage;
#endif
}

// One guest, by socket or libvirt domain.
int run_one(const HostOptions& o, std::ostream& out) {
  // status --prometheus: the fleet exposition with one row.
  if (o.prometheus) {
    std::vector<GuestSource> one;
    if (!o.socket.empty()) {
      one.push_back({o.socket, [&o]() -> gn::Result<std::unique_ptr<AgentChannel>> {
                       return std::unique_ptr<AgentChannel>(std::make_unique<SocketChannel>(o.socket));
                     }});
      return run_host_fleet(o, one, "sockets", out, std::cerr);
    }
  }
  if (!o.socket.empty()) {
    SocketChannel channel(o.socket);
    return run_host_command(o, channel, out, std::cerr);
  }
#ifdef GN_HAVE_LIBVIRT
  auto conn = LibvirtConnection::open(o.connect);
  if (!conn) {
    std::cerr << "guest-nettune-host: " << neutralise(conn.error().text()) << "\n";
    return host_exit::kNoAgent;
  }
  if (o.prometheus) {
    std::vector<GuestSource> one = {{o.domain, [c = *conn, &o]() -> gn::Result<std::unique_ptr<AgentChannel>> {
                                       auto ch = LibvirtChannel::open(c, o.domain);
                                       if (!ch) return ch.error();
                                       return std::unique_ptr<AgentChannel>(std::move(*ch));
                                     }}};
    return run_host_fleet(o, one, "libvirt", out, std::cerr);
  }
  auto channel = LibvirtChannel::open(*conn, o.domain);
  if (!channel) {
    std::cerr << "guest-nettune-host: " << neutralise(channel.error().text()) << "\n";
    return host_exit::kUsage;
  }
  return run_host_command(o, **channel, out, std::cerr);
#else
  std::cerr << "guest-nettune-host: this build has no libvirt support: use --socket PATH\n";
  return host_exit::kUsage;
#endif
}

int run(int argc, char** argv) {
  // advise: the hypervisor and domain half of the guide (read only), its own options.
  if (argc > 1 && std::string(argv[1]) == "advise")
    return gn::advise::advise_command(std::vector<std::string>(argv + 2, argv + argc), std::cout, std::cerr);
  auto opts = parse_host_args(std::vector<std::string>(argv + 1, argv + argc));
  if (!opts) {
    std::cerr << "guest-nettune-host: " << neutralise(opts.error().text()) << "\n";
    return host_exit::kUsage;
  }
  if (opts->help) {
    std::cout << opts->help_text;
    return host_exit::kOk;
  }
  if (opts->entry->run) return opts->entry->run(*opts, std::cout, std::cerr);
  if (opts->output == "-") opts->output.clear();  // the usual spelling of standard output
  // The file's directory must exist already: a mistyped textfile directory would otherwise be
  // created and written to every minute while node_exporter reads another one.
  if (!opts->output.empty()) {
    const std::filesystem::path dir = std::filesystem::path(opts->output).parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
      std::cerr << "guest-nettune-host: --output " << neutralise(opts->output) << ": the directory "
                << neutralise(dir.string()) << " does not exist; create it or correct the path (for node_exporter, "
                << "the directory of its --collector.textfile.directory)\n";
      return 1;
    }
  }
  // --output FILE: the whole answer, then one atomic replacement (a reader never sees half).
  std::ostringstream buffer;
  std::ostream& out = opts->output.empty() ? std::cout : buffer;
  const int code = opts->all ? run_fleet(*opts, out) : run_one(*opts, out);
  if (!opts->output.empty()) {
    // Nothing to write (the guests could not even be listed): keep the last good file, so that
    // a reader sees its age (guest_nettune_host_run_timestamp_seconds) rather than nothing.
    if (buffer.str().empty()) {
      if (code != host_exit::kUsage) std::cerr << "guest-nettune-host: " << neutralise(opts->output) << " kept as it was\n";
      return code;
    }
    if (auto w = gn::write_file_atomically(opts->output, buffer.str()); !w) {
      std::cerr << "guest-nettune-host: " << neutralise(w.error().text()) << "\n";
      return 1;
    }
  }
  return code;
}

}  // namespace
