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

nlohmann::json facts_summary_json(const Facts& f) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : f.cpus.nodes) nodes.push_back(format_cpulist(n));
  return {
      {"kernel", {{"release", f.kernel.text},
                  {"driver_behaviour", to_string(f.behaviour)},
                  {"evidence", f.behaviour_evidence}}},
      {"cpus", {{"nr_cpu_ids", f.cpus.nr_cpu_ids},
                {"online", format_cpulist(f.cpus.online)},
                {"isolated", format_cpulist(f.cpus.isolated | f.cpus.nohz_full)},
                {"usable", format_cpulist(f.cpus.usable())},
                {"numa_nodes", nodes},
                {"smt_cores", f.cpus.cores.size()}}},
      {"irqbalance_running", f.irqbalance_running},
  };
}

nlohmann::json setting_json(const Setting& s) {
  nlohmann::json j = {{"kind", to_string(s.kind)},      {"nic", s.nic},
                      {"target", display_target(s.path())}, {"current", s.current},
                      {"desired", s.desired.text()},    {"action", to_string(s.action)},
                      {"reason", s.reason}};
  if (s.queue >= 0) j["queue"] = s.queue;
  if (s.kind == SettingKind::IrqAffinity) j["irq"] = s.irq;
  return j;
}

nlohmann::json plan_json(const Facts& facts, const Policy& policy, const Plan& plan) {
  nlohmann::json j = facts_summary_json(facts);
  j["schema_version"] = kSchemaVersion;
  j["profile"] = to_string(policy.profile);
  nlohmann::json nics = nlohmann::json::array();
  for (const auto& n : plan.nics)
    nics.push_back({{"name", n.name}, {"role", n.role}, {"driver", n.driver}, {"detail", n.detail},
                    {"queues_current", n.queues_current}, {"queues_planned", n.queues_planned},
                    {"queues_max", n.queues_max}});
  j["nics"] = nics;
  nlohmann::json settings = nlohmann::json::array();
  for (const auto& s : plan.settings) settings.push_back(setting_json(s));
  j["settings"] = settings;
  j["notes"] = plan.notes;
  j["summary"] = {{"write", plan.count(Action::Write)},
                  {"keep", plan.count(Action::Keep)},
                  {"skip", plan.count(Action::Skip)}};
  return j;
}

// Masks read better as CPU lists in a table; JSON keeps the kernel text.
std::string value_for_people(const Setting& s, const std::string& value) {
  if (value.empty()) return "-";
  return is_mask(s.kind) ? mask_for_people(value) : value;
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
    rows.push_back({label ? label(s) : to_string(s.action), display_target(s.path()), value_for_people(s, s.current),
                    s.desired.for_people(), s.reason});
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
