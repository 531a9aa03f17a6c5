#include "status.h"

#include "plan_render.h"

namespace gn {

const char* setting_state(const Setting& s) {
  switch (s.action) {
    case Action::Keep: return "ok";
    case Action::Write: return "drift";
    case Action::Skip: return "not_applicable";
  }
  return "?";
}

nlohmann::json status_json(const Status& s) {
  nlohmann::json j = plan_json(s.facts, s.policy, s.plan);
  j["command"] = "status";
  unsigned ok = 0, drift = 0, na = 0;
  for (size_t i = 0; i < s.plan.settings.size(); ++i) {
    const Setting& st = s.plan.settings[i];
    j["settings"][i]["state"] = setting_state(st);
    ok += st.action == Action::Keep;
    drift += st.action == Action::Write;
    na += st.action == Action::Skip;
  }
  j["summary"] = {{"ok", ok}, {"drift", drift}, {"not_applicable", na}};
  j["last_apply"] = s.last_apply ? *s.last_apply : nlohmann::json(nullptr);
  j["journal_entries"] = s.journal_entries;
  return j;
}

void render_status_table(std::ostream& out, const Status& s) {
  render_plan_table(out, s.facts, s.policy, s.plan, [](const Setting& x) {
    return x.action == Action::Skip ? "n/a" : setting_state(x);
  });
  if (s.last_apply) {
    const auto& a = *s.last_apply;
    out << "last apply: " << a.value("result", std::string("?")) << " at " << a.value("time", std::string("?"));
    if (a.contains("summary"))
      out << " (" << a["summary"].value("writes", 0) << " written, " << a["summary"].value("errors", 0) << " failed)";
    out << "\n";
  } else {
    out << "last apply: none recorded\n";
  }
  out << s.journal_entries << " original value(s) kept for revert\n";
}

}  // namespace gn
