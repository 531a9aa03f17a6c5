#include "advise_cli.h"

#include <boost/program_options.hpp>
#include <sstream>

#include "option_error.h"

namespace gn::advise {

namespace po = boost::program_options;

namespace {
po::options_description advise_options(AdviseOptions& o) {
  po::options_description d("Options");
  d.add_options()
      ("domain", po::value<std::vector<std::string>>(&o.domains)->composing(), "NAME|UUID: a libvirt domain (repeatable)")
      ("all", po::bool_switch(&o.all), "every defined domain, running or not")
      ("host", po::bool_switch(&o.host), "the host's own settings (bridge netfilter, NAPI, NICs, vhost, KVM, SMT, NUMA)")
      ("connect", po::value<std::string>(&o.connect), "URI: the libvirt connection (default qemu:///system)")
      ("json", po::bool_switch(&o.json), "print JSON (docs/advise-schema.json)")
      ("root", po::value<std::string>(&o.root), "DIR: read the host's /sys and /proc from a snapshot tree (CPU topology too)")
      ("no-guest", "do not ask running guests' agents for their view")
      ("timeout", po::value<double>(&o.timeout), "S: give a guest's agent S seconds (default 10)")
      ("guest-path", po::value<std::string>(&o.guest_path), "P: guest-nettune inside the guest (default /usr/sbin/guest-nettune)")
      ("help,h", "this help");
  return d;
}
}  // namespace

std::string advise_help() {
  AdviseOptions o;
  std::ostringstream s;
  s << "guest-nettune-host advise: check domain definitions and the host against the tuning guide's\n"
       "hypervisor half, and say for each finding what was seen, why it costs packet rate, and the exact\n"
       "change (a domain-XML fragment for `virsh edit`, a virsh command, a sysctl line, an ethtool line).\n"
       "Read only: it changes nothing.\n\n"
       "Usage: guest-nettune-host advise {--domain NAME... | --all} [--host] [--connect URI] [--json]\n"
       "       guest-nettune-host advise --host [--root DIR] [--json]\n\n"
    << advise_options(o)
    << "\nSeverity: 'recommended' and 'optional' are the guide's marks; 'trade-off' (CPU vulnerability\n"
       "mitigations) is reported, never recommended.\n"
       "Exit codes: 0 nothing recommended to change; 6 some recommended change found; 1 the host's files\n"
       "could not be read; 2 bad usage or no such domain; 10 libvirt could not be reached; 15 --all: some\n"
       "domains could not be read.\n";
  return s.str();
}

Result<AdviseArgs> parse_advise_args(const std::vector<std::string>& args) {
  AdviseArgs a;
  po::variables_map vm;
  try {
    // No positional arguments: a stray word (a domain given without --domain) is an error, not ignored.
    po::store(po::command_line_parser(args).options(advise_options(a.options)).positional({}).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return make_error("advise", option_error_text(e), "see guest-nettune-host advise --help");
  }
  a.help = vm.count("help") > 0;
  a.options.guest = vm.count("no-guest") == 0;
  if (a.help) return a;
  auto& o = a.options;
  if (o.domains.empty() && !o.all && !o.host)
    return make_error("advise", "nothing to look at: give --domain NAME, --all or --host", "see guest-nettune-host advise --help");
  if (!o.domains.empty() && o.all) return make_error("advise", "give --domain or --all, not both");
  if (!(o.timeout > 0 && o.timeout <= 3600)) return make_error("--timeout", "must be seconds from 0 to 3600");
  if (o.root.empty()) return make_error("--root", "must name a directory");
  if (o.guest_path.empty() || o.guest_path.front() != '/')
    return make_error("--guest-path", "must be an absolute path in the guest");
  for (const auto& d : o.domains)
    if (d.empty()) return make_error("--domain", "must name a domain");
  return a;
}

}  // namespace gn::advise

#ifdef GN_HAVE_LIBVIRT
#include "libvirt_source.h"
#endif

namespace gn::advise {

int advise_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto a = parse_advise_args(args);
  if (!a) {
    err << "guest-nettune-host advise: " << a.error().text() << "\n";
    return advise_exit::kUsage;
  }
  if (a->help) {
    out << advise_help();
    return advise_exit::kNoFindings;
  }
  const AdviseOptions& o = a->options;
  const SysRoot root(o.root);
  IoctlHostNic live;
  SnapshotHostNic snapshot(root);
  HostNicIo& nics = root.is_snapshot() ? static_cast<HostNicIo&>(snapshot) : live;
  if (o.domains.empty() && !o.all) return run_advise(o, nullptr, nics, out, err);
#ifdef GN_HAVE_LIBVIRT
  auto conn = qga::LibvirtConnection::open(o.connect);
  if (!conn) {
    err << "guest-nettune-host advise: " << conn.error().text() << "\n";
    return advise_exit::kNoLibvirt;
  }
  LibvirtSource source(*conn);
  return run_advise(o, &source, nics, out, err);
#else
  err << "guest-nettune-host advise: this build has no libvirt support: only --host works\n";
  return advise_exit::kUsage;
#endif
}

}  // namespace gn::advise
