#include "cli.h"

#include <boost/program_options.hpp>
#include <fstream>
#include <sstream>

#include "option_error.h"

namespace gn {

namespace po = boost::program_options;

namespace {

// The tuning options; `interface` left out for revert, which has its own.
po::options_description tuning_options(bool with_interface = true) {
  po::options_description d("Tuning (also keys of the config file)");
  d.add_options()("profile", po::value<std::string>(), "observe | balanced | throughput (default) | latency");
  if (with_interface)
    d.add_options()("interface,i", po::value<std::vector<std::string>>(),
                    "tune only this NIC (repeatable); an upper device (bond, vlan, ...) means its lower devices");
  d.add_options()
      ("exclude", po::value<std::vector<std::string>>(), "never touch this NIC (repeatable)")
      ("driver", po::value<std::vector<std::string>>(), "tune NICs of this driver too (repeatable; default virtio_net)")
      ("channels", po::value<std::string>(), "auto (min(max, usable CPUs), default) | off | N (at most N)")
      ("xps", po::value<std::string>(), "on (default) | off")
      ("rps", po::value<std::string>(), "auto (when rx queues < CPUs, default) | on | off")
      ("irq-affinity", po::value<std::string>(), "on (default) | off")
      ("sysctls", po::value<std::string>(), "on (default) | off: the profile's net.core sysctls")
      ("rps-flow-entries", po::value<long long>(), "net.core.rps_sock_flow_entries when RPS is on (power of two, default 32768)");
  // One option per sysctl of the catalogue that has one, with the limits the kernel accepts.
  for (const auto& r : kSysctls)
    if (*r.option != '\0')
      d.add_options()(r.option, po::value<long long>(), ("set " + sysctl_full_name(r) + " (overrides the profile)").c_str());
  return d;
}

po::options_description general_options(const std::string& command) {
  po::options_description d("Options");
  d.add_options()
      ("help,h", "show this help")
      ("root", po::value<std::string>(), "read (and write) the system under DIR, e.g. a snapshot from `capture` (default /)")
      ("json", "print JSON instead of a table");
  if (command != "capture" && command != "revert")
    d.add_options()("config", po::value<std::string>(), "config file (default ROOT/etc/guest-nettune/guest-nettune.conf)");
  if (command == "revert")
    d.add_options()("interface,i", po::value<std::vector<std::string>>(),
                    "restore only this NIC's values (repeatable); an upper device (bond, vlan, ...) means its lower "
                    "devices. Without it: every NIC the journal holds, and the sysctls");
  if (command == "apply" || command == "revert")
    d.add_options()
        ("state-dir", po::value<std::string>(), "journal directory (default ROOT/var/lib/guest-nettune)")
        ("run-dir", po::value<std::string>(), "lock and status directory (default ROOT/run)")
        ("wait", po::value<double>(), "seconds to wait for another run's lock (default 30)")
        ("dry-run,n", "print what would be written, write nothing");
  if (command == "apply")
    d.add_options()("automatic", "as the boot unit and udev run it: tune only what an explicit apply asked for and no "
                                 "revert took back (after `guest-nettune revert`, nothing until the next explicit apply)");
  if (command == "status")
    d.add_options()
        ("state-dir", po::value<std::string>(), "journal directory (default ROOT/var/lib/guest-nettune)")
        ("run-dir", po::value<std::string>(), "status directory (default ROOT/run)")
        ("prometheus", "print node_exporter textfile metrics (guest_nettune_*)");
  if (command == "status" || command == "check")
    d.add_options()("sample", po::value<double>(), "measure packets per second over SECONDS and say which load tier it is in");
  // -v only where it adds something, and its help says what.
  const char* verbose = command == "apply"    ? "also list each setting left alone and why, and print the counts "
                                                "even when nothing was written"
                        : command == "revert" ? "also list each journalled value forgotten or dropped and why, and "
                                                "print the counts even when nothing was restored"
                        : command == "status" || command == "check"
                            ? "with --sample: say on standard error when the first reading of the counters is "
                              "taken and for how long they are sampled"
                            : nullptr;
  if (verbose != nullptr) d.add_options()("verbose,v", verbose);
  return d;
}

Result<bool> on_off(const std::string& key, const std::string& v) {
  if (v == "on") return true;
  if (v == "off") return false;
  return make_error("--" + key, "'" + v + "' is not on or off");
}

Error usage(const std::string& what) { return make_error("", what, "see --help"); }

// Turns the stored options into a Policy, checking every value.
Result<void> fill_policy(const po::variables_map& vm, Policy& p) {
  if (vm.count("profile")) {
    auto prof = profile_from_string(vm["profile"].as<std::string>());
    if (!prof) return usage("unknown profile '" + vm["profile"].as<std::string>() + "' (observe, balanced, throughput, latency)");
    p.profile = *prof;
  }
  if (vm.count("interface")) p.interfaces = vm["interface"].as<std::vector<std::string>>();
  if (vm.count("exclude"))
    for (const auto& x : vm["exclude"].as<std::vector<std::string>>()) p.exclude.insert(x);
  if (vm.count("driver"))
    for (const auto& d : vm["driver"].as<std::vector<std::string>>()) p.drivers.insert(d);
  for (const auto& name : p.interfaces)
    if (auto r = validate_interface_name(name); !r) return usage(r.error().target + ": " + r.error().message);
  for (const auto& name : p.exclude)
    if (auto r = validate_interface_name(name); !r) return usage(r.error().target + ": " + r.error().message);
  if (vm.count("channels")) {
    const std::string v = vm["channels"].as<std::string>();
    if (v == "off") {
      p.channels = false;
    } else if (v != "auto") {
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 4096)
        return usage("--channels '" + v + "' is not auto, off or a count from 1 to 4096");
      p.channel_cap = static_cast<unsigned>(n);
    }
  }
  for (const char* key : {"xps", "irq-affinity", "sysctls"}) {
    if (!vm.count(key)) continue;
    auto b = on_off(key, vm[key].as<std::string>());
    if (!b) return usage(b.error().text());
    (std::string(key) == "xps" ? p.xps : std::string(key) == "sysctls" ? p.sysctls : p.irq_affinity) = *b;
  }
  if (vm.count("rps")) {
    auto m = rps_mode_from_string(vm["rps"].as<std::string>());
    if (!m) return usage("--rps '" + vm["rps"].as<std::string>() + "' is not auto, on or off");
    p.rps = *m;
  }
  if (vm.count("rps-flow-entries")) {
    const long long v = vm["rps-flow-entries"].as<long long>();
    const SysctlRow& r = *find_sysctl_row("rps_sock_flow_entries");
    if (v < r.min || v > r.max || (v & (v - 1)) != 0)
      return usage("--rps-flow-entries " + std::to_string(v) +
                   " must be a power of two from 1 to 536870912 (the kernel rounds other values up)");
    p.rps_sock_flow_entries = static_cast<unsigned>(v);
  }
  for (const auto& r : kSysctls) {
    if (*r.option == '\0' || !vm.count(r.option)) continue;
    const long long v = vm[r.option].as<long long>();
    if (v < r.min || v > r.max)
      return usage(std::string("--") + r.option + " " + std::to_string(v) + " is out of range (" +
                   std::to_string(r.min) + " to " + std::to_string(r.max) + ")");
    p.sysctl_overrides[sysctl_full_name(r)] = v;
  }
  return {};
}

std::string command_summary(const std::string& command) {
  if (command == "plan") return "Show what apply would write: per setting, target, current, desired value and reason.";
  if (command == "apply") return "Write the plan: channels, RPS/RFS, XPS, IRQ affinity, sysctls; journal originals first.";
  if (command == "revert") return "Restore every value the journal holds (from before the first apply), then forget them.";
  if (command == "status") return "Show facts, plan, actual values, drift per setting and the last apply result.";
  if (command == "check") return "Report what costs packet rate here (host queues, irqbalance, offloads, ...) and what to do.";
  if (command == "capture") return "Copy every file the probe reads, and the ethtool values, into DIR (a snapshot for --root).";
  return "";
}

}  // namespace

std::string main_help() {
  return
      "guest-nettune: make a KVM guest's virtio-net NICs use every vCPU.\n\n"
      "Usage: guest-nettune COMMAND [OPTIONS]\n\n"
      "Commands:\n"
      "  plan      " + command_summary("plan") + "\n"
      "  apply     " + command_summary("apply") + "\n"
      "  revert    " + command_summary("revert") + "\n"
      "  status    " + command_summary("status") + "\n"
      "  check     " + command_summary("check") + "\n"
      "  capture   " + command_summary("capture") + "\n\n"
      "Run `guest-nettune COMMAND --help` for a command's options; --version prints the version.\n\n"
      "Exit codes: 0 done (changed or nothing to do); 1 failed (could not read the system or\n"
      "write the journal); 2 bad usage or input (nothing written); 3 partial (some NICs failed\n"
      "and were rolled back); 4 another run held the lock past --wait; 5 writes needed but not\n"
      "permitted (run as root); 6 `check` found warnings.\n";
}

Result<CliOptions> parse_cli(const std::string& command, const std::vector<std::string>& args) {
  CliOptions o;
  o.command = command;
  po::options_description general = general_options(command);
  // Each option's description costs a small run a noticeable share of its instructions: only
  // the command's own are made.
  const bool tunes = command != "revert" && command != "capture";
  po::options_description tuning = tunes ? tuning_options() : po::options_description();
  po::options_description all;
  all.add(general);
  po::options_description hidden;
  hidden.add_options()("capture-dir", po::value<std::string>());
  // Revert restores what the journal holds: tuning options and the config file have no say in
  // it. They are parsed only to be refused by name.
  const po::options_description not_for_revert =
      command == "revert" ? tuning_options(/*with_interface=*/false) : po::options_description();
  if (command == "revert") {
    hidden.add(not_for_revert);
    hidden.add_options()("config", po::value<std::string>());
  } else if (command != "capture") {
    all.add(tuning);
  } else {
    all.add_options()("driver", po::value<std::vector<std::string>>(), "also probe NICs of this driver (repeatable)");
  }
  po::options_description parse_set;
  parse_set.add(all).add(hidden);
  po::positional_options_description pos;
  if (command == "capture") pos.add("capture-dir", 1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(parse_set).positional(pos).run(), vm);
  } catch (const po::error& e) {
    return usage(option_error_text(e));
  }
  if (vm.count("help")) {
    // Laid out only when asked for: formatting every option's description costs a run of the
    // agent a fifth of its instructions (callgrind, `plan` of one 4-queue NIC).
    std::ostringstream help;
    help << "Usage: guest-nettune " << command << (command == "capture" ? " DIR" : "") << " [OPTIONS]\n"
         << command_summary(command) << "\n\n" << all;
    o.help_text = help.str();
    o.help = true;
    return o;
  }
  if (vm.count("root")) o.root = vm["root"].as<std::string>();
  if (o.root.empty()) return usage("--root needs a directory");
  const std::string prefix = o.root == "/" ? "" : o.root;

  if (command == "revert") {
    for (const auto& opt : not_for_revert.options())
      if (vm.count(opt->long_name()))
        return usage("--" + opt->long_name() +
                     " does not apply to revert: revert restores the values from before the first apply, "
                     "whatever was tuned; only --interface narrows it");
    if (vm.count("config"))
      return usage("--config does not apply to revert: revert never reads the config file and restores every NIC "
                   "the journal holds; only --interface narrows it");
  }

  // The config file: command-line values win, because they were stored first. Revert never
  // reads it: an `interface =` key must not narrow what a revert (the package's, on removal)
  // restores.
  if (tunes) {
    const bool explicit_config = vm.count("config") > 0;
    o.config = explicit_config ? vm["config"].as<std::string>() : prefix + "/etc/guest-nettune/guest-nettune.conf";
    std::ifstream in(o.config);
    if (in) {
      try {
        po::store(po::parse_config_file(in, tuning, /*allow_unregistered=*/false), vm);
      } catch (const po::error& e) {
        return make_error("config " + o.config, option_error_text(e), "every key is listed in `guest-nettune plan --help`");
      }
    } else if (explicit_config && !o.config.empty()) {
      return make_error("config " + o.config, "cannot be read", "give an existing file, or --config '' for none");
    } else {
      o.config.clear();
    }
  }
  // Nothing is required and nothing notified today; an option that is one day reports here.
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    return usage(option_error_text(e));
  }

  if (auto r = fill_policy(vm, o.policy); !r) return r.error();
  o.json = vm.count("json") > 0;
  o.verbose = vm.count("verbose") > 0;
  o.dry_run = vm.count("dry-run") > 0;
  o.automatic = vm.count("automatic") > 0;
  o.state_dir = vm.count("state-dir") ? vm["state-dir"].as<std::string>() : prefix + "/var/lib/guest-nettune";
  o.run_dir = vm.count("run-dir") ? vm["run-dir"].as<std::string>() : prefix + "/run";
  if (vm.count("wait")) {
    o.wait_seconds = vm["wait"].as<double>();
    if (o.wait_seconds < 0 || o.wait_seconds > 3600) return usage("--wait must be 0 to 3600 seconds");
  }
  o.prometheus = vm.count("prometheus") > 0;
  if (vm.count("sample")) {
    o.sample_seconds = vm["sample"].as<double>();
    if (o.sample_seconds <= 0 || o.sample_seconds > 3600) return usage("--sample must be more than 0 and at most 3600 seconds");
  }
  if (o.json && o.prometheus) return usage("--json and --prometheus exclude each other");
  if (command == "capture") {
    if (!vm.count("capture-dir")) return usage("capture needs a destination directory: guest-nettune capture DIR");
    o.capture_dir = vm["capture-dir"].as<std::string>();
  }
  return o;
}

}  // namespace gn
