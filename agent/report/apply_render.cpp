#include "apply_render.h"

#include <ctime>

#include "plan_render.h"

namespace gn {

namespace {
void write_writes(JsonOut& j, std::string_view key, const std::vector<WriteRecord>& ws) {
  j.key(key).begin_array();
  for (const auto& w : ws) {
    j.begin_object();
    j.member("from", w.from).member("kind", to_string(w.kind)).member("nic", w.nic);
    j.member("target", display_target(w.target)).member("to", w.to);
    j.end_object();
  }
  j.end_array();
}
void write_writes(JsonOut& j, std::string_view key, const std::vector<PlannedWrite>& ws, bool dry_run) {
  j.key(key).begin_array();
  for (const auto& w : ws) {
    const Setting& s = *w.setting;
    j.begin_object();
    j.member("from", w.from()).member("kind", to_string(s.kind)).member("nic", s.nic.view());
    j.member("target", display_target(s)).member("to", w.to(dry_run));
    j.end_object();
  }
  j.end_array();
}
void write_skips(JsonOut& j, std::string_view key, const std::vector<SkipRecord>& ss) {
  j.key(key).begin_array();
  for (const auto& s : ss) {
    j.begin_object();
    j.member("nic", s.nic).member("target", display_target(s.target)).member("why", s.why);
    j.end_object();
  }
  j.end_array();
}
void write_errors(JsonOut& j, const std::vector<FailureRecord>& es) {
  j.key("errors").begin_array();
  for (const auto& e : es) {
    j.begin_object();
    j.member("error", e.error).member("nic", e.nic).member("target", display_target(e.target)).member("what_to_do", e.hint);
    j.end_object();
  }
  j.end_array();
}
void write_targets(JsonOut& j, const std::vector<std::string>& ts) {
  j.key("unchanged").begin_array();
  for (const auto& t : ts) j.value(display_target(t));
  j.end_array();
}
void print_writes(std::ostream& out, const char* verb, const std::vector<WriteRecord>& ws) {
  for (const auto& w : ws)
    out << verb << " " << display_target(w.target) << ": " << (w.from.empty() ? "-" : w.from) << " -> " << w.to << "\n";
}
void print_writes(std::ostream& out, const char* verb, const std::vector<PlannedWrite>& ws, bool dry_run) {
  // One line is put together and handed over at once: thousands of lines on a big guest, and
  // each piece sent on its own costs the stream's overhead again.
  std::string line;
  for (const auto& w : ws) {
    const std::string_view from = w.from();
    line.assign(verb).append(" ").append(display_target(*w.setting)).append(": ");
    line.append(from.empty() ? std::string_view("-") : from).append(" -> ").append(w.to(dry_run)).append("\n");
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
  }
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

void write_apply_json(JsonOut& j, const ApplyReport& r, const Policy& policy, const std::string& result) {
  j.begin_object();
  j.member("command", "apply");
  j.member("dry_run", r.dry_run);
  j.member("epoch", static_cast<long long>(std::time(nullptr)));
  write_errors(j, r.errors);
  j.key("failed_nics").begin_array();
  for (const auto& n : r.failed_nics) j.value(n);
  j.end_array();
  write_skips(j, "not_applicable", r.not_applicable);
  j.member("profile", to_string(policy.profile));
  j.member("result", result);
  write_writes(j, "rolled_back", r.rolled_back);
  j.member("schema_version", kSchemaVersion);
  j.key("summary").begin_object();
  j.member("errors", r.errors.size()).member("not_applicable", r.not_applicable.size());
  j.member("unchanged", r.unchanged.size()).member("writes", r.writes.size());
  j.end_object();
  j.member("time", utc_now());
  write_targets(j, r.unchanged);
  write_writes(j, "writes", r.writes, r.dry_run);
  j.end_object();
}

nlohmann::json apply_json(const ApplyReport& r, const Policy& policy, const std::string& result) {
  return json_of([&](JsonOut& j) { write_apply_json(j, r, policy, result); });
}

void write_revert_json(JsonOut& j, const RevertReport& r, const std::string& result) {
  j.begin_object();
  j.member("command", "revert");
  j.member("dry_run", r.dry_run);
  write_errors(j, r.errors);
  write_skips(j, "gone", r.gone);
  j.member("result", result);
  j.member("schema_version", kSchemaVersion);
  write_skips(j, "stale", r.stale);
  j.key("summary").begin_object();
  j.member("errors", r.errors.size()).member("unchanged", r.unchanged.size()).member("writes", r.writes.size());
  j.end_object();
  j.member("time", utc_now());
  write_targets(j, r.unchanged);
  write_writes(j, "writes", r.writes);
  j.end_object();
}

nlohmann::json revert_json(const RevertReport& r, const std::string& result) {
  return json_of([&](JsonOut& j) { write_revert_json(j, r, result); });
}

void render_apply_text(std::ostream& out, const ApplyReport& r, bool verbose) {
  print_writes(out, r.dry_run ? "would write" : "wrote", r.writes, r.dry_run);
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
