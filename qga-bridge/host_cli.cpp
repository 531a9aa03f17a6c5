#include "host_cli.h"

#include <boost/program_options.hpp>
#include <chrono>
#include <ctime>
#include <iomanip>
#include <optional>
#include <ostream>
#include <sstream>
#include <tuple>

#include "catalogue.h"
#include "cpuset.h"
#include "fleet.h"
#include "fleet_render.h"
#include "guest_exec.h"
#include "guest_json.h"
#include "neutralise.h"
#include "option_error.h"
#include "schema.h"
#include "setting_table.h"
#include "status_schema.h"

namespace gn::qga {

namespace po = boost::program_options;

namespace {
const char* const kGuestOptionsHelp =
    "Options after the command go to guest-nettune in the guest (--profile, --interface, --sample, ...;\n"
    "see `guest-nettune COMMAND --help` there).\n";

const char* const kExitCodes =
    "Exit codes: 0 done; 1 the --output file could not be written; 2 bad usage; 10 no guest agent\n"
    "answering; 11 guest-exec disabled in the guest; 12 guest-nettune missing in the guest; 13\n"
    "guest-nettune failed (its exit code is shown);\n"
    "14 the guest's answer is unusable (not JSON, another schema version, breaks docs/status-schema.json:\n"
    "the field is named, or cut short); 15 --all: some guests did not report (their rows say why).\n"
    "Everything from the guest is untrusted: it is checked against the schema before use, and control\n"
    "characters in its strings are shown as \\x1b, \\u009b ... .\n";

void status_options(po::options_description& d) {
  d.add_options()
      ("prometheus", "print one Prometheus text exposition for every guest asked (guest_nettune_guest_*), for node_exporter's textfile collector")
      ("output", po::value<std::string>()->value_name("FILE"), "write to FILE atomically (temp file, fsync, rename) instead of standard output; its directory must exist ('-' is standard output)");
}
}  // namespace

const std::vector<HostCommand>& host_commands() {
  static const std::vector<HostCommand> commands = {
      {"status", "Show how the guest's network is tuned: per setting, state, target, current and desired value.",
       /*in_guest=*/true, /*allows_all=*/true, /*forwards=*/true, kGuestOptionsHelp, status_options, nullptr},
      {"plan", "Show what apply would write in the guest, and why.", true, false, true, kGuestOptionsHelp, nullptr,
       nullptr},
      {"apply", "Tune the guest: write what differs from the plan (guest-nettune journals the originals).", true,
       false, true, kGuestOptionsHelp, nullptr, nullptr},
      {"revert", "Restore the guest's values from before guest-nettune's first apply.", true, false, true,
       kGuestOptionsHelp, nullptr, nullptr},
  };
  return commands;
}

namespace {

const HostCommand* find_command(const std::string& name) {
  for (const auto& c : host_commands())
    if (name == c.name) return &c;
  return nullptr;
}

std::string command_names() {
  std::string s;
  for (const auto& c : host_commands()) s += (s.empty() ? "" : ", ") + std::string(c.name);
  return s;
}

// The options every guest command shares.
po::options_description where_options() {
  po::options_description d("Which guest");
  d.add_options()
      ("socket", po::value<std::string>()->value_name("PATH"), "the VM's org.qemu.guest_agent.0 chardev socket (QEMU, Proxmox)")
      ("domain", po::value<std::string>()->value_name("NAME|UUID"), "a libvirt domain, through virDomainQemuAgentCommand (libvirt holds the socket)")
      ("connect", po::value<std::string>()->value_name("URI"), "the libvirt connection (default qemu:///system)")
      ("all", "every running libvirt domain on the connection, one row each")
      ("sockets", po::value<std::string>()->value_name("GLOB"), "with --all (implied): every socket matching GLOB instead, e.g. '/var/run/qemu-server/*.qga' on Proxmox; rows are named by socket");
  return d;
}

po::options_description run_options() {
  po::options_description d("How");
  d.add_options()
      ("timeout", po::value<std::string>()->value_name("S"), "give up on a guest after S seconds (default 30)")
      ("parallel", po::value<std::string>()->value_name("N"), "--all: ask at most N guests at once (default 16)")
      ("deadline", po::value<std::string>()->value_name("S"), "--all: finish within S seconds whatever the guests do (default 300); guests not done by then are reported as timed out")
      ("guest-path", po::value<std::string>()->value_name("P"), "guest-nettune inside the guest (default /usr/sbin/guest-nettune)")
      ("json", "print the guest's JSON (checked, re-serialised) instead of a table")
      ("help,h", "show this help");
  return d;
}

po::options_description hidden_options() {
  po::options_description d;
  d.add_options()("command", po::value<std::string>())("rest", po::value<std::vector<std::string>>());
  return d;
}

Error usage(const std::string& what, const std::string& command = {}) {
  return make_error("", what, command.empty() ? "see guest-nettune-host --help" : "see guest-nettune-host " + command + " --help");
}

// The description a command's --help prints (and the parser uses).
po::options_description command_options(const HostCommand& c) {
  po::options_description d;
  d.add(where_options()).add(run_options());
  if (c.add_options) {
    po::options_description own(std::string(c.name) + " options");
    c.add_options(own);
    d.add(own);
  }
  return d;
}

std::string command_help(const HostCommand& c) {
  std::ostringstream h;
  h << "Usage: guest-nettune-host {--socket PATH | --domain NAME|UUID [--connect URI]";
  if (c.allows_all) h << " | --all [--connect URI | --sockets GLOB] [--parallel N] [--deadline S]";
  h << "}\n                          [OPTIONS] " << c.name << (c.forwards ? " [guest-nettune options...]" : "") << "\n"
    << c.summary << "\n\n" << command_options(c) << "\n";
  if (c.forwards) h << c.forwarded_help << "\n";
  h << kExitCodes;
  return h.str();
}

Result<double> seconds_value(const po::variables_map& vm, const char* key, double max, const std::string& command) {
  const std::string v = vm[key].as<std::string>();
  char* end = nullptr;
  const double s = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(s > 0) || s > max)
    return usage("--" + std::string(key) + " '" + v + "' is not a number of seconds above 0 and at most " +
                     std::to_string(static_cast<long>(max)),
                 command);
  return s;
}

}  // namespace

std::string host_help() {
  std::ostringstream h;
  h << "guest-nettune-host: ask a guest's guest-nettune, through its qemu-guest-agent, how its network is\n"
       "tuned, or tell it to tune or revert; or ask every guest of this host at once.\n\n"
       "Usage: guest-nettune-host {--socket PATH | --domain NAME|UUID [--connect URI]} [OPTIONS] COMMAND [guest-nettune options...]\n"
       "       guest-nettune-host --all [--connect URI | --sockets GLOB] [--parallel N] [--deadline S] [--json | --prometheus] [--output FILE] status\n"
       "       guest-nettune-host advise {--domain NAME... | --all} [--host] [--json]   (see advise --help)\n\n"
       "Commands:\n";
  for (const auto& c : host_commands()) h << "  " << std::left << std::setw(9) << c.name << " " << c.summary << "\n";
  h << "  " << std::left << std::setw(9) << "advise" << " Check libvirt domains and this hypervisor against the tuning guide (read only).\n";
  h << "\nRun `guest-nettune-host COMMAND --help` for a command's options.\n\n" << where_options() << "\n"
    << run_options() << "\n" << kGuestOptionsHelp << "\n" << kExitCodes;
  return h.str();
}

Result<HostOptions> parse_host_args(const std::vector<std::string>& args) {
  HostOptions o;
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  po::positional_options_description pos;
  pos.add("command", 1).add("rest", -1);

  // First pass: find the command, knowing every command's own options (each may come first).
  po::options_description first;
  first.add(where_options()).add(run_options()).add(hidden_options());
  for (const auto& c : host_commands()) {
    if (!c.add_options) continue;
    po::options_description own;
    c.add_options(own);
    for (const auto& opt : own.options())
      if (!first.find_nothrow(opt->long_name(), /*approx=*/false)) first.add(opt);
  }
  po::parsed_options parsed(nullptr);
  try {
    parsed = po::command_line_parser(args).options(first).positional(pos).style(style).allow_unregistered().run();
  } catch (const po::error& e) {
    return usage(option_error_text(e));
  }
  // The command is the first word that is not an option or an option's value; an option the
  // host does not know, before it, is a mistake (the guest's options go after the command).
  std::string command;
  bool help = false;
  for (const auto& opt : parsed.options) {
    if (opt.string_key == "help") help = true;
    if (opt.string_key == "command" && !opt.value.empty()) {
      command = opt.value.front();
      break;
    }
    if (opt.unregistered)
      return usage("unknown option '" + opt.original_tokens.front() + "' before the command (guest-nettune's own "
                   "options go after it)");
  }
  const HostCommand* entry = command.empty() ? nullptr : find_command(command);
  if (!command.empty() && !entry) return usage("unknown command '" + command + "' (" + command_names() + ")");
  if (!entry) {
    if (help) {
      o.help = true;
      o.help_text = host_help();
      return o;
    }
    return usage("no command (" + command_names() + ", or advise)");
  }

  // Second pass: the command's own options too.
  po::options_description full = command_options(*entry);
  full.add(hidden_options());
  try {
    auto cmdline = po::command_line_parser(args).options(full).positional(pos).style(style);
    if (entry->forwards) cmdline.allow_unregistered();
    parsed = cmdline.run();
    po::store(parsed, o.vm);
    po::notify(o.vm);
  } catch (const po::error& e) {
    return usage(option_error_text(e), command);
  }
  o.command = command;
  o.entry = entry;
  if (o.vm.count("help")) {
    o.help = true;
    o.help_text = command_help(*entry);
    return o;
  }

  // What follows the command and is not the host's goes to guest-nettune; before it, nothing may.
  bool after = false;
  for (const auto& opt : parsed.options) {
    if (opt.string_key == "command") {
      after = true;
      continue;
    }
    const bool guests = opt.unregistered || opt.string_key == "rest";
    if (!guests) continue;
    // Another command's own option is the host's, not the guest's: say which command takes it.
    if (opt.unregistered)
      for (const auto& other : host_commands()) {
        if (&other == entry || !other.add_options) continue;
        po::options_description own;
        other.add_options(own);
        const std::string token = opt.original_tokens.front();
        const std::string name = token.rfind("--", 0) == 0 ? token.substr(2, token.find('=') - 2) : std::string();
        if (!name.empty() && own.find_nothrow(name, /*approx=*/false))
          return usage(token + " goes with " + other.name + ", not " + command, command);
      }
    if (!after)
      return usage("unknown option '" + opt.original_tokens.front() + "' before the command (guest-nettune's own "
                   "options go after it)",
                   command);
    if (!entry->forwards) return usage("unexpected '" + opt.original_tokens.front() + "'", command);
    o.agent_args.insert(o.agent_args.end(), opt.original_tokens.begin(), opt.original_tokens.end());
  }

  const auto& vm = o.vm;
  if (vm.count("socket")) o.socket = vm["socket"].as<std::string>();
  if (vm.count("domain")) o.domain = vm["domain"].as<std::string>();
  if (vm.count("connect")) o.connect = vm["connect"].as<std::string>();
  if (vm.count("sockets")) o.sockets = vm["sockets"].as<std::string>();
  o.all = vm.count("all") > 0 || !o.sockets.empty();
  o.json = vm.count("json") > 0;
  o.prometheus = vm.count("prometheus") > 0;
  if (vm.count("output")) {
    o.output = vm["output"].as<std::string>();
    if (o.output.empty() || o.output.back() == '/')
      return usage("--output needs a file name, e.g. /var/lib/prometheus/node-exporter/guest-nettune.prom", command);
  }
  for (auto [key, max, field] : {std::tuple{"timeout", 3600.0, &o.timeout}, std::tuple{"deadline", 86400.0, &o.deadline}}) {
    if (!vm.count(key)) continue;
    auto s = seconds_value(vm, key, max, command);
    if (!s) return s.error();
    *field = *s;
  }
  if (vm.count("parallel")) {
    const std::string v = vm["parallel"].as<std::string>();
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 1 || n > 1024)
      return usage("--parallel '" + v + "' is not a count of guests from 1 to 1024", command);
    o.parallel = static_cast<unsigned>(n);
  }
  if (vm.count("guest-path")) {
    o.guest_path = vm["guest-path"].as<std::string>();
    if (o.guest_path.empty() || o.guest_path.front() != '/')
      return make_error("--guest-path", "'" + o.guest_path + "' is not an absolute path in the guest",
                        "give the full path, e.g. /usr/local/sbin/guest-nettune");
  }
  if (!o.sockets.empty() && vm.count("connect"))
    return usage("--sockets asks sockets, --connect a libvirt connection: give one of them", command);
  if (!entry->in_guest) return o;
  const int channels = !o.socket.empty() + !o.domain.empty() + o.all;
  if (channels == 0) return usage("no guest: give --socket PATH, --domain NAME or --all", command);
  if (channels > 1) return usage("give only one of --socket, --domain and --all (or --sockets)", command);
  if (o.all && !entry->allows_all) return usage("--all and --sockets go with status only", command);
  if (!o.all && (vm.count("parallel") || vm.count("deadline")))
    return usage("--parallel and --deadline go with --all or --sockets", command);
  if (o.json && o.prometheus) return usage("--json and --prometheus exclude each other", command);
  return o;
}

namespace {

// A string member of a validated object, made safe to print.
std::string text(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? neutralise(it->get_ref<const std::string&>()) : std::string();
}

// An integer member of a validated object (the schema bounds it).
long long integer(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<long long>() : 0;
}

// The guest's stderr quoted in a message: neutralised, its final newline dropped, and cut short.
constexpr size_t kQuotedStderr = 4096;
std::string quoted_stderr(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return neutralise(s, kQuotedStderr);
}

// Masks as CPU lists ("0-3", "none"), which read better than hex on wide guests.
std::string readable(const nlohmann::json& s, const char* key) {
  const std::string v = s.value(key, std::string());
  const std::string kind = s.value("kind", std::string());
  if (v.empty()) return "-";
  const auto k = setting_kind_from_string(kind);  // the catalogue says which kinds hold masks
  return neutralise(k && is_mask(*k) ? mask_for_people(v) : v);
}

void print_settings(std::ostream& out, const nlohmann::json& doc, bool status) {
  out << "guest kernel " << text(doc["kernel"], "release") << ": " << text(doc["kernel"], "driver_behaviour")
      << "; CPUs " << text(doc["cpus"], "online") << "; profile " << text(doc, "profile") << "\n";
  // The NIC table as the agent prints it: NIC, DRIVER, QUEUES (current -> planned (max)), DETAIL.
  out << "\n" << std::left << std::setw(16) << "NIC" << std::setw(12) << "DRIVER" << std::setw(20) << "QUEUES" << "DETAIL\n";
  for (const auto& n : doc["nics"]) {
    std::string q = std::to_string(integer(n, "queues_current"));
    if (text(n, "role") == "tunable")
      q += " -> " + std::to_string(integer(n, "queues_planned")) + " (max " + std::to_string(integer(n, "queues_max")) + ")";
    const std::string driver = text(n, "driver");
    out << std::setw(16) << text(n, "name") << std::setw(12) << (driver.empty() ? "-" : driver) << std::setw(20) << q
        << text(n, "detail") << "\n";
  }
  std::vector<SettingRow> rows;
  for (const auto& s : doc["settings"]) {
    const std::string label = status ? text(s, "state") : text(s, "action");
    if (label == "skip" || label == "not_applicable") continue;
    rows.push_back({label, text(s, "target"), readable(s, "current"), readable(s, "desired"), text(s, "reason")});
  }
  out << "\n";
  render_setting_rows(out, status ? "STATE" : "ACTION", rows);
  if (status)
    out << integer(doc["summary"], "ok") << " ok, " << integer(doc["summary"], "drift") << " drifted, "
        << integer(doc["summary"], "not_applicable") << " not applicable\n";
}

void print_changes(std::ostream& out, const nlohmann::json& doc) {
  const bool revert = doc.value("command", std::string()) == "revert";
  for (const auto& w : doc["writes"])
    out << (revert ? "restored " : "wrote ") << text(w, "target") << ": " << text(w, "from") << " -> " << text(w, "to")
        << "\n";
  for (const auto& e : doc["errors"])
    out << "error: " << text(e, "error") << " (" << text(e, "what_to_do") << ")\n";
  out << doc["writes"].size() << (revert ? " restored, " : " written, ") << doc["errors"].size() << " failed\n";
}

// The schema part that the command's output must follow.
std::optional<SchemaViolation> check_against_schema(const std::string& command, const nlohmann::json& doc) {
  if (command == "status") return validate_status(doc);
  if (command == "plan") return validate_definition(doc, "plan_output");
  return validate_definition(doc, "changes_output");
}

}  // namespace

int run_host_command(const HostOptions& o, AgentChannel& channel, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args = {o.command, "--json"};
  args.insert(args.end(), o.agent_args.begin(), o.agent_args.end());
  const auto outcome = run_in_guest(channel, o.guest_path, args, Deadline::in_seconds(o.timeout));
  if (const auto* e = std::get_if<ExecError>(&outcome)) {
    // The message can quote the guest (an agent's error description).
    err << "guest-nettune-host: " << neutralise(e->error.text(), kQuotedStderr);
    if (e->kind == ExecFailure::ProgramMissing) err << " (install guest-nettune in the guest, or give its path with --guest-path)";
    err << "\n";
    switch (e->kind) {
      case ExecFailure::NoAgent:
      case ExecFailure::Timeout: return host_exit::kNoAgent;
      case ExecFailure::ExecDisabled: return host_exit::kExecDisabled;
      case ExecFailure::ProgramMissing: return host_exit::kAgentMissing;
      case ExecFailure::BadReply: return host_exit::kBadReply;
    }
  }
  const auto& r = std::get<ExecResult>(outcome);
  const std::string where = neutralise(channel.describe());
  if (r.signal) {
    err << "guest-nettune-host: " << where << ": guest-nettune was killed by signal " << *r.signal << "\n";
    return host_exit::kAgentFailed;
  }
  if (r.out_truncated) {
    err << "guest-nettune-host: " << where << ": guest-nettune's output was cut short at "
        << (kOutputCap >> 20) << " MiB (narrow it with --interface)\n";
    return host_exit::kBadReply;
  }
  const int code = r.exit_code.value_or(-1);
  const auto parsed = parse_guest_json(r.out);
  if (!parsed || !parsed->is_object()) {
    err << "guest-nettune-host: " << where << ": guest-nettune exited " << code << " without JSON output";
    if (!parsed && !r.out.empty()) err << " (its output " << parsed.error().message << ")";
    if (!r.err.empty()) err << ": " << quoted_stderr(r.err);
    err << "\n";
    return code == 0 ? host_exit::kBadReply : host_exit::kAgentFailed;
  }
  const nlohmann::json& doc = *parsed;
  const auto version = doc.find("schema_version");
  if (version != doc.end() && version->is_number_integer() && *version != kSchemaVersion) {
    const long long v = version->get<long long>();
    err << "guest-nettune-host: " << where << ": the guest's guest-nettune speaks schema version " << v
        << ", this host tool " << kSchemaVersion << " (" << (v > kSchemaVersion ? "upgrade guest-nettune-host"
                                                                                : "upgrade guest-nettune in the guest")
        << ")\n";
    return host_exit::kBadReply;
  }
  // Nothing of the answer is used before it passed the schema.
  if (const auto bad = check_against_schema(o.command, doc)) {
    err << "guest-nettune-host: " << where << ": the guest's answer breaks docs/status-schema.json at "
        << neutralise(bad->text()) << "; none of it was used (is the guest's guest-nettune genuine?)\n";
    return host_exit::kBadReply;
  }
  if (o.json) out << dump_for_people(doc) << "\n";
  else if (o.command == "status" || o.command == "plan") print_settings(out, doc, o.command == "status");
  else print_changes(out, doc);
  if (code != 0) {
    err << "guest-nettune-host: " << where << ": guest-nettune exited " << code;
    if (!r.err.empty()) err << ": " << quoted_stderr(r.err);
    err << "\n";
    return host_exit::kAgentFailed;
  }
  return host_exit::kOk;
}

}  // namespace gn::qga

namespace gn::qga {

int run_host_fleet(const HostOptions& o, const std::vector<GuestSource>& guests, const std::string& source,
                   std::ostream& out, std::ostream& err) {
  FleetOptions f;
  f.parallel = o.parallel;
  f.per_guest_seconds = o.timeout;
  f.overall_seconds = o.deadline;
  f.guest_path = o.guest_path;
  f.agent_args = o.agent_args;
  const auto t0 = std::chrono::steady_clock::now();
  const auto rows = ask_fleet(guests, f);
  FleetRun run;
  run.source = source;
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  run.finished = static_cast<long long>(std::time(nullptr));
  if (o.prometheus) render_fleet_prometheus(out, rows, run);
  else if (o.json) render_fleet_json(out, rows);
  else render_fleet_table(out, rows, source == "sockets" ? "(no sockets match " + o.sockets + ")" : "(no running domains)");
  size_t failed = 0;
  for (const auto& r : rows) failed += r.cls != GuestClass::Ok;
  if (!o.all) return rows.empty() ? host_exit::kNoAgent : exit_code_of(rows.front().cls);
  if (failed) err << "guest-nettune-host: " << failed << " of " << rows.size() << " guests did not report (see their rows)\n";
  return failed ? host_exit::kSomeDomains : host_exit::kOk;
}

}  // namespace gn::qga
