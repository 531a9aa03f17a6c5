#include "host_cli.h"

#include <iomanip>
#include <optional>
#include <ostream>
#include <set>

#include "cpuset.h"
#include "guest_exec.h"
#include "guest_json.h"
#include "neutralise.h"
#include "schema.h"
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
         "  --json             print the guest's JSON (checked, re-serialised) instead of a table\n"
         "Options after the command go to guest-nettune in the guest (--profile, --interface, ...).\n\n"
         "Exit codes: 0 done; 2 bad usage; 10 no guest agent answering; 11 guest-exec disabled in the\n"
         "guest; 12 guest-nettune missing in the guest; 13 guest-nettune failed (its exit code is shown);\n"
         "14 the guest's answer is unusable (not JSON, another schema version, breaks docs/status-schema.json:\n"
         "the field is named, or cut short); 15 --all: some domains did not report.\n"
         "Everything from the guest is untrusted: it is checked against the schema before use, and control\n"
         "characters in its strings are shown as \\x1b, \\u009b ... .\n";
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
  return neutralise(kind == "xps_cpus" || kind == "rps_cpus" || kind == "irq_affinity" ? mask_for_people(v) : v);
}

void print_settings(std::ostream& out, const nlohmann::json& doc, bool status) {
  out << "guest kernel " << text(doc["kernel"], "release") << ": " << text(doc["kernel"], "driver_behaviour")
      << "; CPUs " << text(doc["cpus"], "online") << "; profile " << text(doc, "profile") << "\n";
  for (const auto& n : doc["nics"])
    out << "  " << std::left << std::setw(16) << text(n, "name") << std::setw(10) << text(n, "role")
        << integer(n, "queues_current") << "/" << integer(n, "queues_max") << " queues  " << text(n, "detail") << "\n";
  for (const auto& s : doc["settings"]) {
    const std::string label = status ? text(s, "state") : text(s, "action");
    if (label == "skip" || label == "not_applicable") continue;
    out << std::left << std::setw(7) << label << std::setw(48) << text(s, "target") << std::setw(22)
        << readable(s, "current") << readable(s, "desired") << "\n";
  }
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
      row["error"] = e->error.text().substr(0, kQuotedStderr);
      all_reported = false;
      rows.push_back(row);
      continue;
    }
    const auto& res = std::get<ExecResult>(r);
    const auto parsed = parse_guest_json(res.out);
    const auto bad = parsed && parsed->is_object() ? validate_status(*parsed) : std::nullopt;
    if (!parsed || !parsed->is_object() || bad) {
      row["agent"] = "bad reply";
      std::string why = "guest-nettune exited " + std::to_string(res.exit_code.value_or(-1));
      if (bad) why += ", its answer breaks docs/status-schema.json at " + bad->text();
      else if (!res.err.empty()) why += ": " + res.err.substr(0, kQuotedStderr);
      row["error"] = why;
      all_reported = false;
      rows.push_back(row);
      continue;
    }
    const nlohmann::json& doc = *parsed;
    row["agent"] = "ok";
    row["kernel"] = doc["kernel"]["release"];
    row["profile"] = doc["profile"];
    row["drift"] = doc["summary"]["drift"];
    std::string queues;
    for (const auto& n : doc["nics"])
      if (n["role"] == "tunable")
        queues += (queues.empty() ? "" : " ") + n["name"].get<std::string>() + ":" +
                  std::to_string(integer(n, "queues_current")) + "/" + std::to_string(integer(n, "queues_max"));
    row["queues"] = queues;
    row["last_apply"] = doc["last_apply"].is_object() ? doc["last_apply"]["result"] : nlohmann::json("none");
    rows.push_back(row);
  }
  // Rows hold the guests' strings as sent: each is neutralised (or \u-escaped) on its way out.
  if (o.json) {
    out << dump_for_people(rows) << "\n";
  } else {
    out << std::left << std::setw(20) << "DOMAIN" << std::setw(24) << "AGENT" << std::setw(26) << "KERNEL"
        << std::setw(8) << "DRIFT" << std::setw(12) << "LAST APPLY" << "QUEUES\n";
    for (const auto& r : rows) {
      out << std::setw(20) << text(r, "domain") << std::setw(24) << text(r, "agent");
      if (r.value("agent", std::string()) == "ok")
        out << std::setw(26) << text(r, "kernel") << std::setw(8) << integer(r, "drift") << std::setw(12)
            << text(r, "last_apply") << text(r, "queues") << "\n";
      else
        out << neutralise(r.value("error", std::string()), kQuotedStderr) << "\n";
    }
    if (rows.empty()) out << "(no running domains)\n";
  }
  if (!all_reported) err << "guest-nettune-host: some domains did not report (see the table)\n";
  return all_reported ? host_exit::kOk : host_exit::kSomeDomains;
}

}  // namespace gn::qga
