#include "fleet.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "guest_exec.h"
#include "status_schema.h"

namespace gn::qga {

namespace {
struct ClassInfo {
  GuestClass cls;
  const char* name;
  int exit_code;
};
constexpr ClassInfo kClassTable[] = {
    {GuestClass::Ok, "ok", 0},
    {GuestClass::NoAgent, "no_agent", 10},
    {GuestClass::Timeout, "timeout", 10},
    {GuestClass::ExecDisabled, "exec_disabled", 11},
    {GuestClass::AgentMissing, "agent_missing", 12},
    {GuestClass::AgentFailed, "agent_failed", 13},
    {GuestClass::BadReply, "bad_reply", 14},
};
}  // namespace

const char* to_string(GuestClass c) {
  for (const auto& i : kClassTable)
    if (i.cls == c) return i.name;
  return "?";
}

std::optional<GuestClass> guest_class_from_string(const std::string& s) {
  for (const auto& i : kClassTable)
    if (s == i.name) return i.cls;
  return std::nullopt;
}

int exit_code_of(GuestClass c) {
  for (const auto& i : kClassTable)
    if (i.cls == c) return i.exit_code;
  return 1;
}

namespace {

GuestClass class_of(ExecFailure f) {
  switch (f) {
    case ExecFailure::NoAgent: return GuestClass::NoAgent;
    case ExecFailure::ExecDisabled: return GuestClass::ExecDisabled;
    case ExecFailure::ProgramMissing: return GuestClass::AgentMissing;
    case ExecFailure::BadReply: return GuestClass::BadReply;
    case ExecFailure::Timeout: return GuestClass::Timeout;
  }
  return GuestClass::BadReply;
}

// The parts of the status document the fleet views read, with the types they need; anything
// else in the document is left alone. (A guest may send any JSON at all.)
bool usable_status(const nlohmann::json& d, std::string& why) {
  const auto is_obj = [&](const char* k) { return d.contains(k) && d[k].is_object(); };
  const auto is_arr = [&](const char* k) { return d.contains(k) && d[k].is_array(); };
  if (!d.is_object()) return (why = "not a JSON object", false);
  if (!d.contains("schema_version") || !d["schema_version"].is_number_integer())
    return (why = "no schema_version", false);
  if (d["schema_version"].get<long long>() != kSchemaVersion) {
    const long long v = d["schema_version"].get<long long>();
    why = "schema version " + std::to_string(v) + ", this host tool speaks " + std::to_string(kSchemaVersion) +
          (v > kSchemaVersion ? " (upgrade guest-nettune-host)" : " (upgrade guest-nettune in the guest)");
    return false;
  }
  if (!is_obj("kernel") || !is_obj("cpus") || !is_obj("summary") || !is_arr("nics") || !is_arr("settings"))
    return (why = "kernel, cpus, summary, nics or settings missing or of the wrong type", false);
  for (const char* k : {"ok", "drift", "not_applicable"})
    if (!d["summary"].contains(k) || !d["summary"][k].is_number_unsigned())
      return (why = std::string("summary.") + k + " is not a count", false);
  for (const auto& n : d["nics"]) {
    if (!n.is_object() || !n.contains("name") || !n["name"].is_string()) return (why = "a NIC without a name", false);
    for (const char* k : {"queues_current", "queues_planned", "queues_max"})
      if (!n.contains(k) || !n[k].is_number_unsigned()) return (why = std::string("NIC ") + k + " is not a count", false);
  }
  for (const auto& s : d["settings"])
    if (!s.is_object()) return (why = "a setting that is not an object", false);
  return true;
}

}  // namespace

GuestRow ask_guest(const std::string& name, AgentChannel& channel, const FleetOptions& o, Deadline deadline) {
  GuestRow row;
  row.name = name;
  row.status = nullptr;
  std::vector<std::string> args = {"status", "--json"};
  args.insert(args.end(), o.agent_args.begin(), o.agent_args.end());
  const auto outcome = run_in_guest(channel, o.guest_path, args, deadline);
  if (const auto* e = std::get_if<ExecError>(&outcome)) {
    row.cls = class_of(e->kind);
    row.error = e->error.text();
    row.reachable = row.cls != GuestClass::NoAgent;
    if (row.cls == GuestClass::ExecDisabled) row.exec_enabled = false;
    if (row.cls == GuestClass::AgentMissing || row.cls == GuestClass::Timeout) row.exec_enabled = true;
    return row;
  }
  const auto& r = std::get<ExecResult>(outcome);
  row.reachable = true;
  row.exec_enabled = true;
  row.agent_exit = r.exit_code;
  if (r.signal) {
    row.cls = GuestClass::AgentFailed;
    row.error = "guest-nettune was killed by signal " + std::to_string(*r.signal);
    return row;
  }
  if (r.out_truncated) {
    row.cls = GuestClass::BadReply;
    row.error = "guest-nettune's output was cut short";
    return row;
  }
  auto doc = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  const int code = r.exit_code.value_or(-1);
  if (doc.is_discarded() || !doc.is_object()) {
    row.cls = code == 0 ? GuestClass::BadReply : GuestClass::AgentFailed;
    row.error = "guest-nettune exited " + std::to_string(code) + " without JSON output" + (r.err.empty() ? "" : ": " + r.err);
    return row;
  }
  std::string why;
  if (!usable_status(doc, why)) {
    row.cls = GuestClass::BadReply;
    row.error = "guest-nettune's status: " + why;
    return row;
  }
  if (code != 0) {
    row.cls = GuestClass::AgentFailed;
    row.error = "guest-nettune exited " + std::to_string(code) + (r.err.empty() ? "" : ": " + r.err);
    return row;
  }
  row.cls = GuestClass::Ok;
  row.status = std::move(doc);
  return row;
}

std::vector<GuestRow> ask_fleet(const std::vector<GuestSource>& guests, const FleetOptions& o) {
  using Clock = std::chrono::steady_clock;
  const Deadline overall = Deadline::in_seconds(o.overall_seconds);
  std::vector<GuestRow> rows(guests.size());
  std::atomic<size_t> next{0};
  // Each worker takes the next guest not yet asked; a stuck guest holds one worker until its
  // own deadline, never the others.
  const auto worker = [&] {
    for (size_t i = next++; i < guests.size(); i = next++) {
      GuestRow& row = rows[i];
      const auto t0 = Clock::now();
      if (overall.passed()) {
        row.name = guests[i].name;
        row.cls = GuestClass::Timeout;
        row.error = "not asked: the run's --deadline (" + std::to_string(static_cast<long>(o.overall_seconds)) +
                    " s) passed first";
        continue;
      }
      const Deadline deadline = Deadline::in_seconds(o.per_guest_seconds).min(overall);
      try {
        auto channel = guests[i].open();
        if (!channel) {
          row.name = guests[i].name;
          row.cls = GuestClass::NoAgent;
          row.error = channel.error().text();
        } else {
          row = ask_guest(guests[i].name, **channel, o, deadline);
        }
      } catch (const std::exception& e) {
        // Only this guest's answer is lost (e.g. memory exhausted while decoding it).
        row = GuestRow{};
        row.name = guests[i].name;
        row.cls = GuestClass::BadReply;
        row.error = std::string("could not use the answer: ") + e.what();
      }
      row.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    }
  };
  const size_t n = std::min<size_t>(std::max(1u, o.parallel), guests.size());
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (size_t t = 0; t < n; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return rows;
}

namespace {
// A directory of the pattern that does not exist matches nothing; one that cannot be read is an error.
int glob_error(const char*, int err) { return err == ENOENT || err == ENOTDIR ? 0 : 1; }
}  // namespace

Result<std::vector<std::string>> sockets_matching(const std::string& pattern) {
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), 0, glob_error, &g);
  std::vector<std::string> out;
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      struct stat st{};
      if (::stat(g.gl_pathv[i], &st) == 0 && S_ISSOCK(st.st_mode)) out.emplace_back(g.gl_pathv[i]);
    }
  }
  ::globfree(&g);
  if (rc == GLOB_ABORTED)
    return make_error("--sockets " + pattern, "a directory of the pattern cannot be read",
                      "run as root, or check the path (Proxmox: /var/run/qemu-server/*.qga)");
  if (rc == GLOB_NOSPACE) return make_error("--sockets " + pattern, "out of memory while matching");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace gn::qga
