#include "plan_render.h"

#include <iomanip>

#include "setting_table.h"

namespace gn {

std::string display_target(const std::string& target) {
  if (target.rfind("ethtool:", 0) == 0) {
    const std::string rest = target.substr(8);
    const auto colon = rest.find(':');
    return rest.substr(0, colon) + " " + rest.substr(colon + 1);
  }
  return "/" + target;
}

std::string display_target(const Target& t) {
  if (row(t.kind).place == Place::Ethtool) return display_target(t.path());
  return t.path("/");
}

void write_facts_summary(JsonOut& j, const Facts& f) {
  j.key("cpus").begin_object();
  j.member("isolated", format_cpulist(f.cpus.isolated | f.cpus.nohz_full));
  j.member("nr_cpu_ids", f.cpus.nr_cpu_ids);
  j.key("numa_nodes").begin_array();
  for (const auto& n : f.cpus.nodes) j.value(format_cpulist(n));
  j.end_array();
  j.member("online", format_cpulist(f.cpus.online));
  j.member("smt_cores", f.cpus.cores.size());
  j.member("usable", format_cpulist(f.cpus.usable()));
  j.end_object();
  j.member("irqbalance_running", f.irqbalance_running);
}

void write_kernel(JsonOut& j, const Facts& f) {
  j.key("kernel").begin_object();
  j.member("driver_behaviour", to_string(f.behaviour));
  j.member("evidence", f.behaviour_evidence);
  j.member("release", f.kernel.text);
  j.end_object();
}

void write_nics(JsonOut& j, const Plan& plan) {
  j.key("nics").begin_array();
  for (const auto& n : plan.nics) {
    j.begin_object();
    j.member("detail", n.detail).member("driver", n.driver).member("name", n.name);
    j.member("queues_current", n.queues_current).member("queues_max", n.queues_max);
    j.member("queues_planned", n.queues_planned).member("role", n.role);
    j.end_object();
  }
  j.end_array();
  j.key("notes").begin_array();
  for (const auto& note : plan.notes) j.value(note);
  j.end_array();
}

void write_setting(JsonOut& j, const Setting& s, const SettingExtra& extra) {
  j.begin_object();
  j.member("action", to_string(s.action));
  j.member("current", s.current.view());
  j.member("desired", s.desired.text());
  if (extra.drift_cause) j.member("drift_cause", *extra.drift_cause);
  if (s.kind == SettingKind::IrqAffinity) j.member("irq", s.irq());
  j.member("kind", to_string(s.kind));
  j.member("nic", s.nic.view());
  if (s.queue() >= 0) j.member("queue", s.queue());
  j.member("reason", s.reason.view());
  if (extra.state) j.member("state", extra.state);
  j.member("target", display_target(s));
  j.end_object();
}

void write_plan_json(JsonOut& j, const Facts& facts, const Policy& policy, const Plan& plan) {
  j.begin_object();
  write_facts_summary(j, facts);
  write_kernel(j, facts);
  write_nics(j, plan);
  j.member("profile", to_string(policy.profile));
  j.member("schema_version", kSchemaVersion);
  j.key("settings").begin_array();
  for (const auto& s : plan.settings) write_setting(j, s, {});
  j.end_array();
  j.key("summary").begin_object();
  j.member("keep", plan.count(Action::Keep)).member("skip", plan.count(Action::Skip)).member("write", plan.count(Action::Write));
  j.end_object();
  j.end_object();
}

nlohmann::json plan_json(const Facts& facts, const Policy& policy, const Plan& plan) {
  return json_of([&](JsonOut& j) { write_plan_json(j, facts, policy, plan); });
}

// Masks read better as CPU lists in a table; JSON keeps the kernel text.
std::string value_for_people(const Setting& s, std::string_view value) {
  if (value.empty()) return "-";
  return is_mask(s.kind) ? mask_for_people(value) : std::string(value);
}

void render_plan_table(std::ostream& out, const Facts& f, const Policy& policy, const Plan& plan, SettingLabel label) {
  out << "kernel " << f.kernel.text << ": " << to_string(f.behaviour) << " (" << f.behaviour_evidence << ")\n";
  out << "CPUs: online " << format_cpulist(f.cpus.online) << ", usable " << format_cpulist(f.cpus.usable())
      << ", " << f.cpus.nodes.size() << " NUMA node(s); profile " << to_string(policy.profile) << "\n\n";
  out << std::left << std::setw(16) << "NIC" << std::setw(12) << "DRIVER" << std::setw(20) << "QUEUES"
      << "DETAIL\n";
  for (const auto& n : plan.nics) {
    std::string q = std::to_string(n.queues_current);
    if (n.role == "tunable") q += " -> " + std::to_string(n.queues_planned) + " (max " + std::to_string(n.queues_max) + ")";
    out << std::setw(16) << n.name << std::setw(12) << (n.driver.empty() ? "-" : n.driver) << std::setw(20) << q
        << n.detail << "\n";
  }
  out << "\n";
  std::vector<SettingRow> rows;
  for (const auto& s : plan.settings)
    rows.push_back({label ? label(s) : to_string(s.action), display_target(s), value_for_people(s, s.current),
                    s.desired.for_people(), std::string(s.reason)});
  render_setting_rows(out, label ? "STATE" : "ACTION", rows);
  for (const auto& note : plan.notes) out << "note: " << note << "\n";
  if (label)
    out << plan.count(Action::Keep) << " ok, " << plan.count(Action::Write) << " drifted from the plan, "
        << plan.count(Action::Skip) << " not applicable\n";
  else
    out << plan.count(Action::Write) << " to write, " << plan.count(Action::Keep) << " already as planned, "
        << plan.count(Action::Skip) << " skipped\n";
}

}  // namespace gn
