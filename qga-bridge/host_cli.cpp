#include "host_cli.h"

#include <iomanip>
#include <ostream>
#include <set>

#include "cpuset.h"
#include "guest_exec.h"
#include "status_schema.h"

namespace gn::qga {

namespace {
const std::set<std::string> kCommands = {"status", "plan", "apply", "revert"};
}  // namespace

std::string host_help() {
  return "guest-nettune-host: ask a guest's guest-nettune, through its qemu-guest-agent, how its network is\n"
         "tuned, or tell it to tune or revert.\n\n"
         "Usage: guest-nettune-host {--socket PATH | --domain NAME|UUID [--connect URI]} [--timeout S]\n"
         "                          [--guest-path P] [--json] {status|plan|apply|revert} [guest-nettune options...]\n"
         "       guest-nettune-host --all [--connect URI] [--json] status\n"
         "       guest-nettune-host advise {--domain NAME... | --all} [--host] [--json]   (see advise --help)\n\n"
         "  --socket PATH      the VM's org.qemu.guest_agent.0 chardev socket (QEMU, Proxmox)\n"
         "  --domain NAME      a libvirt domain, through virDomainQemuAgentCommand (libvirt holds the socket)\n"
         "  --connect URI      the libvirt connection (default qemu:///system)\n"
         "  --all              every running domain on the connection, one row each (status only)\n"
         "  --timeout S        give up after S seconds (default 30)\n"
         "  --guest-path P     guest-nettune inside the guest (default /usr/sbin/guest-nettune)\n"
         "  --json             print the guest's JSON instead of a table\n"
         "Options after the command go to guest-nettune in the guest (--profile, --interface, ...).\n\n"
         "Exit codes: 0 done; 2 bad usage; 10 no guest agent answering; 11 guest-exec disabled in the\n"
         "guest; 12 guest-nettune missing in the guest; 13 guest-nettune failed (its exit code is shown);\n"
         "14 the guest's answer is unusable (not JSON, another schema version, cut short); 15 --all: some\n"
         "domains did not report.\n";
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
    } else if (a == "--domain") {
      auto v = value("--domain");
      if (!v) return v.error();
      o.domain = *v;
    } else if (a == "--connect") {
      auto v = value("--connect");
      if (!v) return v.error();
      o.connect = *v;
    } else if (a == "--all") {
      o.all = true;
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
    } else if (o.command.empty() && a.front() != '-') {
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
  const int channels = !o.socket.empty() + !o.domain.empty() + o.all;
  if (channels == 0) return make_error("", "no agent channel: give --socket PATH, --domain NAME or --all", "see --help");
  if (channels > 1) return make_error("", "give only one of --socket, --domain and --all", "see --help");
  if (o.all && o.command != "status") return make_error("--all", "goes with status only");
  return o;
}

namespace {

// Masks as CPU lists ("0-3", "none"), which read better than hex on wide guests.
std::string readable(const nlohmann::json& s, const char* key) {
  const std::string v = s.value(key, std::string());
  const std::string kind = s.value("kind", std::string());
  if (v.empty()) return "-";
  return kind == "xps_cpus" || kind == "rps_cpus" || kind == "irq_affinity" ? mask_for_people(v) : v;
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

namespace gn::qga {

int run_host_all(const HostOptions& o, std::vector<DomainChannel>& domains, std::ostream& out, std::ostream& err) {
  nlohmann::json rows = nlohmann::json::array();
  bool all_reported = true;
  for (auto& d : domains) {
    nlohmann::json row = {{"domain", d.name}};
    if (!d.channel) {
      row["agent"] = "error";
      row["error"] = d.open_error;
      all_reported = false;
      rows.push_back(row);
      continue;
    }
    std::vector<std::string> args = {"status", "--json"};
    args.insert(args.end(), o.agent_args.begin(), o.agent_args.end());
    const auto r = run_in_guest(*d.channel, o.guest_path, args, Deadline::in_seconds(o.timeout));
    if (const auto* e = std::get_if<ExecError>(&r)) {
      static const char* names[] = {"no agent", "exec disabled", "guest-nettune missing", "bad reply", "timeout"};
      row["agent"] = names[static_cast<int>(e->kind)];
      row["error"] = e->error.text();
      all_reported = false;
      rows.push_back(row);
      continue;
    }
    const auto& res = std::get<ExecResult>(r);
    const auto doc = nlohmann::json::parse(res.out, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || doc.value("schema_version", 0) != kSchemaVersion) {
      row["agent"] = "bad reply";
      row["error"] = "guest-nettune exited " + std::to_string(res.exit_code.value_or(-1)) + (res.err.empty() ? "" : ": " + res.err);
      all_reported = false;
      rows.push_back(row);
      continue;
    }
    row["agent"] = "ok";
    row["kernel"] = doc["kernel"].value("release", std::string());
    row["profile"] = doc.value("profile", std::string());
    row["drift"] = doc["summary"].value("drift", 0);
    std::string queues;
    for (const auto& n : doc["nics"])
      if (n.value("role", std::string()) == "tunable")
        queues += (queues.empty() ? "" : " ") + n.value("name", std::string()) + ":" +
                  std::to_string(n.value("queues_current", 0)) + "/" + std::to_string(n.value("queues_max", 0));
    row["queues"] = queues;
    row["last_apply"] = doc["last_apply"].is_object() ? doc["last_apply"].value("result", std::string()) : "none";
    rows.push_back(row);
  }
  if (o.json) {
    out << rows.dump(2) << "\n";
  } else {
    out << std::left << std::setw(20) << "DOMAIN" << std::setw(24) << "AGENT" << std::setw(26) << "KERNEL"
        << std::setw(8) << "DRIFT" << std::setw(12) << "LAST APPLY" << "QUEUES\n";
    for (const auto& r : rows) {
      out << std::setw(20) << r.value("domain", std::string()) << std::setw(24) << r.value("agent", std::string());
      if (r.value("agent", std::string()) == "ok")
        out << std::setw(26) << r.value("kernel", std::string()) << std::setw(8) << r.value("drift", 0) << std::setw(12)
            << r.value("last_apply", std::string()) << r.value("queues", std::string()) << "\n";
      else
        out << r.value("error", std::string()) << "\n";
    }
    if (rows.empty()) out << "(no running domains)\n";
  }
  if (!all_reported) err << "guest-nettune-host: some domains did not report (see the table)\n";
  return all_reported ? host_exit::kOk : host_exit::kSomeDomains;
}

}  // namespace gn::qga
