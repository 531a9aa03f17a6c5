#include "apply_render.h"

#include <ctime>

#include "plan_render.h"

namespace gn {

namespace {
nlohmann::json writes_json(const std::vector<WriteRecord>& ws) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& w : ws)
    a.push_back({{"nic", w.nic}, {"target", display_target(w.target)}, {"kind", to_string(w.kind)},
                 {"from", w.from}, {"to", w.to}});
  return a;
}
nlohmann::json skips_json(const std::vector<SkipRecord>& ss) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& s : ss) a.push_back({{"nic", s.nic}, {"target", display_target(s.target)}, {"why", s.why}});
  return a;
}
nlohmann::json errors_json(const std::vector<FailureRecord>& es) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& e : es)
    a.push_back({{"nic", e.nic}, {"target", display_target(e.target)}, {"error", e.error}, {"what_to_do", e.hint}});
  return a;
}
nlohmann::json targets_json(const std::vector<std::string>& ts) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& t : ts) a.push_back(display_target(t));
  return a;
}
void print_writes(std::ostream& out, const char* verb, const std::vector<WriteRecord>& ws) {
  for (const auto& w : ws)
    out << verb << " " << display_target(w.target) << ": " << (w.from.empty() ? "-" : w.from) << " -> " << w.to << "\n";
}
void print_errors(std::ostream& out, const std::vector<FailureRecord>& es) {
  for (const auto& e : es) out << "error: " << e.error << (e.hint.empty() ? "" : " (" + e.hint + ")") << "\n";
}
}  // namespace

const char* apply_result(const ApplyReport& r) { return r.errors.empty() ? "ok" : "partial"; }

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

nlohmann::json apply_json(const ApplyReport& r, const Policy& policy, const std::string& result) {
  return {{"schema_version", kSchemaVersion},
          {"command", "apply"},
          {"dry_run", r.dry_run},
          {"profile", to_string(policy.profile)},
          {"result", result},
          {"time", utc_now()},
          {"epoch", static_cast<long long>(std::time(nullptr))},
          {"writes", writes_json(r.writes)},
          {"unchanged", targets_json(r.unchanged)},
          {"not_applicable", skips_json(r.not_applicable)},
          {"errors", errors_json(r.errors)},
          {"rolled_back", writes_json(r.rolled_back)},
          {"failed_nics", r.failed_nics},
          {"summary", {{"writes", r.writes.size()}, {"unchanged", r.unchanged.size()},
                       {"not_applicable", r.not_applicable.size()}, {"errors", r.errors.size()}}}};
}

nlohmann::json revert_json(const RevertReport& r, const std::string& result) {
  return {{"schema_version", kSchemaVersion},
          {"command", "revert"},
          {"dry_run", r.dry_run},
          {"result", result},
          {"time", utc_now()},
          {"writes", writes_json(r.writes)},
          {"unchanged", targets_json(r.unchanged)},
          {"gone", skips_json(r.gone)},
          {"stale", skips_json(r.stale)},
          {"errors", errors_json(r.errors)},
          {"summary", {{"writes", r.writes.size()}, {"unchanged", r.unchanged.size()}, {"errors", r.errors.size()}}}};
}

void render_apply_text(std::ostream& out, const ApplyReport& r, bool verbose) {
  print_writes(out, r.dry_run ? "would write" : "wrote", r.writes);
  print_writes(out, "rolled back", r.rolled_back);
  print_errors(out, r.errors);
  if (verbose)
    for (const auto& s : r.not_applicable) out << "skipped " << display_target(s.target) << ": " << s.why << "\n";
  if (r.writes.empty() && r.errors.empty() && !verbose) return;
  out << r.writes.size() << (r.dry_run ? " to write, " : " written, ") << r.unchanged.size() << " unchanged, "
      << r.not_applicable.size() << " not applicable, " << r.errors.size() << " failed\n";
}

void render_revert_text(std::ostream& out, const RevertReport& r, bool verbose) {
  print_writes(out, r.dry_run ? "would restore" : "restored", r.writes);
  print_errors(out, r.errors);
  if (verbose)
    for (const auto& g : r.gone) out << "forgot " << display_target(g.target) << ": " << g.why << "\n";
  if (!r.stale.empty())
    out << "dropped " << r.stale.size() << " journalled value(s) without restoring them: " << r.stale.front().why
        << (r.stale.size() > 1 ? " (and others, see --verbose)" : "") << "\n";
  if (verbose)
    for (const auto& g : r.stale) out << "dropped " << display_target(g.target) << ": " << g.why << "\n";
  if (r.writes.empty() && r.errors.empty() && !verbose) return;
  out << r.writes.size() << (r.dry_run ? " to restore, " : " restored, ") << r.unchanged.size()
      << " already original, " << r.errors.size() << " failed\n";
}

}  // namespace gn
