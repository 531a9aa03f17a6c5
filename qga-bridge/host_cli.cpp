#include "host_cli.h"

#include <iomanip>
#include <ostream>
#include <set>

#include "cpuset.h"
#include "guest_exec.h"

namespace gn::qga {

namespace {
constexpr int kSchemaVersion = 1;
const std::set<std::string> kCommands = {"status", "plan", "apply", "revert"};
}  // namespace

std::string host_help() {
  return "guest-nettune-host: ask a guest's guest-nettune, through its qemu-guest-agent, how its network is\n"
         "tuned, or tell it to tune or revert.\n\n"
         "Usage: guest-nettune-host --socket PATH [--timeout S] [--guest-path P] [--json]\n"
         "                          {status|plan|apply|revert} [guest-nettune options...]\n\n"
         "  --socket PATH      the VM's org.qemu.guest_agent.0 chardev socket\n"
         "  --timeout S        give up after S seconds (default 30)\n"
         "  --guest-path P     guest-nettune inside the guest (default /usr/sbin/guest-nettune)\n"
         "  --json             print the guest's JSON instead of a table\n"
         "Options after the command go to guest-nettune in the guest (--profile, --interface, ...).\n\n"
         "Exit codes: 0 done; 2 bad usage; 10 no guest agent answering; 11 guest-exec disabled in the\n"
         "guest; 12 guest-nettune missing in the guest; 13 guest-nettune failed (its exit code is shown);\n"
         "14 the guest's answer is unusable (not JSON, another schema version, cut short).\n";
}

Result<HostOptions> parse_host_args(const std::vector<std::string>& args) {
  HostOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&](const char* name) -> Result<std::string> {
      if (i + 1 >= args.size()) return make_error(name, "needs a value", "see --help");
      return args[++i];
    };
    if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--socket") {
      auto v = value("--socket");
      if (!v) return v.error();
      o.socket = *v;
    } else if (a == "--guest-path") {
      auto v = value("--guest-path");
      if (!v) return v.error();
      if (v->empty() || v->front() != '/') return make_error("--guest-path", "must be an absolute path in the guest");
      o.guest_path = *v;
    } else if (a == "--timeout") {
      auto v = value("--timeout");
      if (!v) return v.error();
      char* end = nullptr;
      o.timeout = std::strtod(v->c_str(), &end);
      if (v->empty() || *end != '\0' || o.timeout <= 0 || o.timeout > 3600)
        return make_error("--timeout", "'" + *v + "' is not a number of seconds from 0 to 3600");
    } else if (o.command.empty() && a.rfind("-", 0) != 0) {
      if (!kCommands.count(a)) return make_error("", "unknown command '" + a + "' (status, plan, apply, revert)");
      o.command = a;
    } else if (!o.command.empty()) {
      o.agent_args.push_back(a);
    } else {
      return make_error("", "unknown option '" + a + "' before the command", "see --help");
    }
  }
  if (o.help) return o;
  if (o.command.empty()) return make_error("", "no command (status, plan, apply, revert)", "see --help");
  if (o.socket.empty()) return make_error("", "no agent channel: give --socket PATH", "see --help");
  return o;
}

namespace {

// Masks as CPU lists ("0-3", "none"), which read better than hex on wide guests.
std::string readable(const nlohmann::json& s, const char* key) {
  const std::string v = s.value(key, std::string());
  const std::string kind = s.value("kind", std::string());
  if (v.empty() || (kind != "xps_cpus" && kind != "rps_cpus" && kind != "irq_affinity")) return v.empty() ? "-" : v;
  auto m = parse_cpumask(v);
  if (!m) return v;
  return m->empty() ? "none" : format_cpulist(*m);
}

void print_settings(std::ostream& out, const nlohmann::json& doc, bool status) {
  out << "guest kernel " << doc["kernel"].value("release", std::string("?")) << ": "
      << doc["kernel"].value("driver_behaviour", std::string("?")) << "; CPUs "
      << doc["cpus"].value("online", std::string("?")) << "; profile " << doc.value("profile", std::string("?")) << "\n";
  for (const auto& n : doc["nics"])
    out << "  " << std::left << std::setw(16) << n.value("name", std::string()) << std::setw(10)
        << n.value("role", std::string()) << n.value("queues_current", 0) << "/" << n.value("queues_max", 0)
        << " queues  " << n.value("detail", std::string()) << "\n";
  for (const auto& s : doc["settings"]) {
    const std::string label = status ? s.value("state", std::string("?")) : s.value("action", std::string("?"));
    if (label == "skip" || label == "not_applicable") continue;
    out << std::left << std::setw(7) << label << std::setw(48) << s.value("target", std::string()) << std::setw(22)
        << readable(s, "current") << readable(s, "desired") << "\n";
  }
  if (status && doc.contains("summary"))
    out << doc["summary"].value("ok", 0) << " ok, " << doc["summary"].value("drift", 0) << " drifted, "
        << doc["summary"].value("not_applicable", 0) << " not applicable\n";
}

void print_changes(std::ostream& out, const nlohmann::json& doc) {
  const bool revert = doc.value("command", std::string()) == "revert";
  for (const auto& w : doc["writes"])
    out << (revert ? "restored " : "wrote ") << w.value("target", std::string()) << ": "
        << w.value("from", std::string()) << " -> " << w.value("to", std::string()) << "\n";
  for (const auto& e : doc["errors"])
    out << "error: " << e.value("error", std::string()) << " (" << e.value("what_to_do", std::string()) << ")\n";
  out << doc["writes"].size() << (revert ? " restored, " : " written, ") << doc["errors"].size() << " failed\n";
}

}  // namespace

int run_host_command(const HostOptions& o, AgentChannel& channel, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args = {o.command, "--json"};
  args.insert(args.end(), o.agent_args.begin(), o.agent_args.end());
  const auto outcome = run_in_guest(channel, o.guest_path, args, Deadline::in_seconds(o.timeout));
  if (const auto* e = std::get_if<ExecError>(&outcome)) {
    err << "guest-nettune-host: " << e->error.text();
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
  const std::string where = channel.describe();
  if (r.signal) {
    err << "guest-nettune-host: " << where << ": guest-nettune was killed by signal " << *r.signal << "\n";
    return host_exit::kAgentFailed;
  }
  if (r.out_truncated) {
    err << "guest-nettune-host: " << where << ": guest-nettune's output was cut short at "
        << (kOutputCap >> 20) << " MiB (narrow it with --interface)\n";
    return host_exit::kBadReply;
  }
  const auto doc = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  const int code = r.exit_code.value_or(-1);
  if (doc.is_discarded() || !doc.is_object()) {
    err << "guest-nettune-host: " << where << ": guest-nettune exited " << code << " without JSON output";
    if (!r.err.empty()) err << ": " << r.err;
    err << "\n";
    return code == 0 ? host_exit::kBadReply : host_exit::kAgentFailed;
  }
  const int version = doc.value("schema_version", 0);
  if (version != kSchemaVersion) {
    err << "guest-nettune-host: " << where << ": the guest's guest-nettune speaks schema version " << version
        << ", this host tool " << kSchemaVersion << " (" << (version > kSchemaVersion ? "upgrade guest-nettune-host"
                                                                                      : "upgrade guest-nettune in the guest")
        << ")\n";
    return host_exit::kBadReply;
  }
  if (o.json) out << doc.dump(2) << "\n";
  else if (o.command == "status" || o.command == "plan") print_settings(out, doc, o.command == "status");
  else print_changes(out, doc);
  if (code != 0) {
    err << "guest-nettune-host: " << where << ": guest-nettune exited " << code;
    if (!r.err.empty()) err << ": " << r.err;
    err << "\n";
    return host_exit::kAgentFailed;
  }
  return host_exit::kOk;
}

}  // namespace gn::qga
