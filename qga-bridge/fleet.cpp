#include "fleet.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iomanip>
#include <sstream>
#include <thread>

#include "guest_exec.h"
#include "guest_json.h"
#include "schema.h"
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

// Whether a status document can be used, and why not: the schema version first (its message
// says which side to upgrade), then docs/status-schema.json as a whole. A guest may send any
// JSON at all; nothing of it is read before this passed.
bool usable_status(const nlohmann::json& d, std::string& why) {
  const auto v = d.find("schema_version");
  if (v != d.end() && v->is_number_integer() && *v != kSchemaVersion) {
    const long long n = v->get<long long>();
    why = "schema version " + std::to_string(n) + ", this host tool speaks " + std::to_string(kSchemaVersion) +
          (n > kSchemaVersion ? " (upgrade guest-nettune-host)" : " (upgrade guest-nettune in the guest)");
    return false;
  }
  if (const auto bad = validate_status(d)) return (why = "breaks docs/status-schema.json at " + bad->text(), false);
  return true;
}

}  // namespace

namespace {
// Seconds as a person writes them: "300", "0.3", "1.25".
std::string seconds_text(double s) {
  std::ostringstream t;
  t << std::setprecision(3) << s;
  return t.str();
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
  auto parsed = parse_guest_json(r.out);
  const int code = r.exit_code.value_or(-1);
  if (!parsed || !parsed->is_object()) {
    row.cls = code == 0 ? GuestClass::BadReply : GuestClass::AgentFailed;
    row.error = "guest-nettune exited " + std::to_string(code) + " without JSON output" + (r.err.empty() ? "" : ": " + r.err);
    return row;
  }
  std::string why;
  nlohmann::json& doc = *parsed;
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
        row.error = "not asked: the run's --deadline (" + seconds_text(o.overall_seconds) +
                    " s) passed first (raise --deadline or --parallel)";
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
      // Cut short by the run's deadline rather than its own: say which one, and that it timed out.
      if ((row.cls == GuestClass::Timeout || row.cls == GuestClass::NoAgent) && overall.passed() &&
          row.seconds < o.per_guest_seconds) {
        row.cls = GuestClass::Timeout;
        row.error = "cut short at the run's --deadline (" + seconds_text(o.overall_seconds) +
                    " s) after " + seconds_text(row.seconds) + " s (raise --deadline or --parallel)";
      }
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
