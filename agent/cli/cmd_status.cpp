// `status` and `check`: probe, plan, read the journal and the last result, report.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "checks.h"
#include "commands.h"
#include "durable_file.h"
#include "exit_codes.h"
#include "journal.h"
#include "load_sample.h"
#include "plan.h"
#include "plan_render.h"
#include "probe.h"
#include "reapply_scope.h"
#include "session.h"
#include "status.h"

namespace gn {

namespace {

std::optional<LoadSample> maybe_sample(const CliOptions& o, Session& s) {
  if (o.sample_seconds <= 0) return std::nullopt;
  auto l = sample_load(s.root, *s.ethtool, *s.facts, selected_nics(*s.facts, o.policy), o.sample_seconds, o.policy.profile);
  if (!l) {
    spdlog::warn("{}, ignoring", l.error().text());
    return std::nullopt;
  }
  return std::move(*l);
}

bool colour_wanted() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr && term != nullptr && std::string(term) != "dumb";
}

}  // namespace

int run_status(const CliOptions& o, std::ostream& out) {
  Session s(o);
  // The journal first, while nothing else is held: its entries (3 MB of them on a guest of 1024
  // CPUs with 16 NICs of 256 queues) are gone, and only their targets' keys kept, before the
  // probe and the plan take their room.
  auto journalled = Journal::live_targets(o.state_dir, s.root);
  if (const int code = probe_and_plan(o, s)) return code;
  Status st{*s.facts, o.policy, *s.plan, std::nullopt, journalled ? std::move(*journalled) : JournalTargets{},
            maybe_sample(o, s)};
  if (!journalled) {
    st.journal_error = journalled.error().text();
    // The table says so in its place; a document for a program says so in a field, and here.
    if (o.json || o.prometheus)
      spdlog::warn("{}; status shows every setting as if nothing had been applied (revert refuses this journal too)",
                   st.journal_error);
  }
  // The last apply's document (12 MB at 16 NICs x 256 queues of 1024 CPUs) is never held whole:
  // --json copies it from its file into the output as it writes, and the table and Prometheus
  // keep only the members they show, read from the file as it is parsed.
  std::ifstream file(status_path(o.run_dir), std::ios::binary);
  if (file && o.json) {
    st.write_last_apply = [&file](JsonOut& j) {
      if (j.copy(file)) return true;
      // Not the agent's own writing (keys out of order): parsed, and laid out in nlohmann's order.
      const auto doc = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
      if (doc.is_discarded()) return false;
      j.value(doc);
      return true;
    };
  } else if (file) {
    const nlohmann::json::parser_callback_t keep = [](int depth, nlohmann::json::parse_event_t event,
                                                      nlohmann::json& parsed) {
      if (depth != 1 || event != nlohmann::json::parse_event_t::key) return true;
      const auto& key = parsed.get_ref<const std::string&>();
      return key == "epoch" || key == "result" || key == "summary" || key == "time";
    };
    auto j = nlohmann::json::parse(file, keep, /*allow_exceptions=*/false);
    if (!j.is_discarded()) st.last_apply = std::move(j);
  }
  if (o.json) print_json(out, [&](JsonOut& j) { write_status_json(j, st); });
  else if (o.prometheus) render_status_prometheus(out, st);
  else {
    render_status_table(out, st, &out == &std::cout && colour_wanted());
    // After a revert the drift above is expected: say that automatic runs will not undo it.
    if (auto scope = ReapplyScope::load(o.state_dir); !scope)
      out << "automatic re-apply (boot unit, udev): stopped: " << scope.error().text() << "\n";
    else if (!(*scope == ReapplyScope{}))
      out << "automatic re-apply (boot unit, udev): " << scope->describe() << "\n";
  }
  return exit_code::kOk;
}

int run_check(const CliOptions& o, std::ostream& out) {
  Session s(o);
  if (const int code = probe_and_plan(o, s)) return code;
  const auto load = maybe_sample(o, s);
  const auto rules = count_iptables_rules(s.root);
  const auto findings = run_checks(*s.facts, *s.plan, selected_nics(*s.facts, o.policy), *s.ethtool, rules, load);
  if (o.json)
    out << nlohmann::json{{"schema_version", kSchemaVersion}, {"command", "check"}, {"findings", findings_json(findings)}}
               .dump(2)
        << "\n";
  else
    render_findings(out, findings);
  for (const auto& f : findings)
    if (f.severity == Severity::Warning) return exit_code::kFindings;
  return exit_code::kOk;
}

}  // namespace gn
