#include "status.h"

#include <algorithm>
#include <iomanip>
#include <map>
#include <sstream>

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

std::string drift_cause(const Status& st, const Setting& s) {
  if (s.action != Action::Write) return {};
  if (!st.journal_targets.has(s)) return "not applied yet";
  if (s.kind == SettingKind::Channels) return "channels changed since the last apply (ethtool -L, or the host)";
  // Only virtio_net rewrites XPS and IRQ affinity itself (on 4.19+, on every channel or CPU change).
  const Nic* nic = st.facts.find_nic(s.nic.str());
  if ((s.kind == SettingKind::Xps || s.kind == SettingKind::IrqAffinity) && nic && nic->driver == "virtio_net" &&
      st.facts.behaviour == DriverBehaviour::DriverStripes)
    return "the driver rewrote it (it does on every channel or CPU change)";
  return "changed by something else since the last apply";
}

namespace {

void write_queue_pps(JsonOut& j, std::string_view key, const std::map<unsigned, double>& pps) {
  // nlohmann keyed these by the queue number as text, so they sort as text: 0, 1, 10, 2.
  std::vector<std::pair<std::string, double>> rows;
  for (const auto& [q, v] : pps) rows.emplace_back(std::to_string(q), v);
  std::sort(rows.begin(), rows.end());
  j.key(key).begin_object();
  for (const auto& [q, v] : rows) j.member(q, v);
  j.end_object();
}

void write_load(JsonOut& j, const LoadSample& l) {
  j.begin_object();
  j.key("cpus").begin_array();
  for (const auto& c : l.cpus) {
    j.begin_object();
    j.member("cpu", c.cpu).member("dropped", c.dropped).member("processed", c.processed).member("time_squeeze", c.time_squeeze);
    j.end_object();
  }
  j.end_array();
  j.key("nics").begin_array();
  for (const auto& n : l.nics) {
    j.begin_object();
    j.member("nic", n.nic).member("rx_pps", n.rx_pps);
    write_queue_pps(j, "rx_queue_pps", n.rx_queue_pps);
    j.member("tx_pps", n.tx_pps);
    write_queue_pps(j, "tx_queue_pps", n.tx_queue_pps);
    j.end_object();
  }
  j.end_array();
  j.member("peak_pps", l.peak_pps);
  j.member("profile_fits", l.profile_fits);
  j.member("recommendation", l.recommendation);
  j.member("recommended_profile", l.recommended ? to_string(*l.recommended) : "");
  j.member("seconds", l.seconds);
  j.member("tier", l.tier);
  j.end_object();
}

// ANSI colour only when asked (a terminal, NO_COLOR unset).
struct Paint {
  bool on;
  std::string operator()(const std::string& s, const char* code) const {
    return on ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
  }
};

}  // namespace

void write_status_json(JsonOut& j, const Status& s) {
  j.begin_object();
  j.member("command", "status");
  write_facts_summary(j, s.facts);
  j.member("journal_entries", s.journal_targets.size());
  if (!s.journal_error.empty()) j.member("journal_error", s.journal_error);
  write_kernel(j, s.facts);
  j.key("last_apply");
  if (!s.write_last_apply || !s.write_last_apply(j)) {
    if (s.last_apply) j.value(*s.last_apply);
    else j.null();
  }
  j.key("load");
  if (s.load) write_load(j, *s.load);
  else j.null();
  write_nics(j, s.plan);
  j.member("profile", to_string(s.policy.profile));
  j.member("schema_version", kSchemaVersion);
  j.key("settings").begin_array();
  for (const auto& st : s.plan.settings) {
    const std::string cause = drift_cause(s, st);
    write_setting(j, st, {setting_state(st), st.action == Action::Write ? &cause : nullptr});
  }
  j.end_array();
  j.key("softnet").begin_array();
  for (const auto& [cpu, row] : s.facts.softnet) {
    j.begin_object();
    j.member("cpu", cpu).member("dropped", row.dropped).member("processed", row.processed).member("time_squeeze", row.time_squeeze);
    j.end_object();
  }
  j.end_array();
  j.key("summary").begin_object();
  j.member("drift", s.plan.count(Action::Write)).member("not_applicable", s.plan.count(Action::Skip)).member("ok", s.plan.count(Action::Keep));
  j.end_object();
  j.end_object();
}

nlohmann::json status_json(const Status& s) {
  return json_of([&](JsonOut& j) { write_status_json(j, s); });
}

void render_status_table(std::ostream& out, const Status& s, bool colour) {
  const Paint paint{colour};
  const Facts& f = s.facts;
  out << paint("guest-nettune status", "1") << ": kernel " << f.kernel.text << ", " << to_string(f.behaviour) << " ("
      << f.behaviour_evidence << ")\n";
  out << "CPUs online " << format_cpulist(f.cpus.online) << ", usable " << format_cpulist(f.cpus.usable()) << ", "
      << f.cpus.nodes.size() << " NUMA node(s); profile " << to_string(s.policy.profile) << "\n";
  if (s.last_apply) {
    const auto& a = *s.last_apply;
    const std::string result = a.value("result", std::string("?"));
    out << "last apply: " << paint(result, result == "ok" ? "32" : "31") << " at " << a.value("time", std::string("?"));
    if (a.contains("summary"))
      out << " (" << a["summary"].value("writes", 0) << " written, " << a["summary"].value("errors", 0) << " failed)";
    out << "\n";
  } else {
    out << "last apply: none recorded\n";
  }
  if (s.journal_error.empty())
    out << s.journal_targets.size() << " original value(s) kept for revert\n";
  else
    out << paint("journal unreadable", "31") << ": " << s.journal_error
        << "; every setting below shows as not applied\n";

  // Each NIC's settings by their index in the plan (four bytes each, counted first: a wide guest
  // has tens of thousands).
  std::map<std::string, std::vector<uint32_t>> by_nic;
  {
    std::map<std::string_view, size_t> count;
    for (const auto& st : s.plan.settings) ++count[st.nic];
    for (const auto& [nic, n] : count) by_nic[std::string(nic)].reserve(n);
  }
  for (size_t i = 0; i < s.plan.settings.size(); ++i)
    by_nic[s.plan.settings[i].nic.str()].push_back(static_cast<uint32_t>(i));
  // The columns are as wide as their widest cell in the whole table (two spaces between columns),
  // so that no name or value runs into the next column whatever its length.
  size_t name_w = 0, label_w = 0, current_w = 0, desired_w = 0;
  const auto label_of = [](const Setting& st) {
    return std::string(st.action == Action::Skip ? "n/a" : setting_state(st));
  };
  for (const auto& st : s.plan.settings) {
    name_w = std::max(name_w, st.label().size());
    label_w = std::max(label_w, label_of(st).size());
    current_w = std::max(current_w, value_for_people(st, st.current).size());
    if (st.action == Action::Write) desired_w = std::max(desired_w, st.desired.for_people().size());
  }
  const auto pad = [](const std::string& cell, size_t width) {
    return cell + std::string(width + 2 - std::min(cell.size(), width), ' ');
  };
  const auto row = [&](const Setting& st) {
    const std::string label = label_of(st);
    const char* code = st.action == Action::Keep ? "32" : st.action == Action::Write ? "33" : "2";
    std::string line = "  " + pad(st.label(), name_w) + paint(label, code) +
                       std::string(label_w + 2 - label.size(), ' ') + pad(value_for_people(st, st.current), current_w);
    if (st.action == Action::Write) line += "-> " + pad(st.desired.for_people(), desired_w) + drift_cause(s, st);
    else if (st.action == Action::Skip) line += st.reason;
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  };
  for (const auto& n : s.plan.nics) {
    out << "\n" << paint(n.name, "1") << "  " << (n.driver.empty() ? "-" : n.driver) << "  ";
    if (n.role == "tunable")
      out << "queues " << n.queues_current << "/" << n.queues_max << " (planned " << n.queues_planned << ")\n";
    else
      out << n.detail << "\n";
    for (const uint32_t i : by_nic[n.name]) row(s.plan.settings[i]);
  }
  if (!by_nic[""].empty()) {
    out << "\n" << paint("sysctls", "1") << "\n";
    for (const uint32_t i : by_nic[""]) row(s.plan.settings[i]);
  }
  unsigned dropped = 0, squeezed = 0;
  for (const auto& [cpu, r] : f.softnet) {
    dropped += static_cast<unsigned>(r.dropped);
    squeezed += static_cast<unsigned>(r.time_squeeze);
  }
  out << "\nsoftnet since boot: " << dropped << " dropped, " << squeezed << " time_squeeze over " << f.softnet.size()
      << " CPUs\n";
  if (s.load) {
    const auto& l = *s.load;
    out << paint("load", "1") << " over " << std::fixed << std::setprecision(1) << l.seconds << " s:";
    for (const auto& n : l.nics) out << " " << n.nic << " rx " << n.rx_pps << " pps, tx " << n.tx_pps << " pps;";
    uint64_t d = 0, q = 0;
    for (const auto& c : l.cpus) {
      d += c.dropped;
      q += c.time_squeeze;
    }
    out << " " << d << " dropped, " << q << " squeezed\n";
    out << "tier " << l.tier << ": " << l.recommendation << "; profile " << to_string(s.policy.profile)
        << (l.profile_fits ? " fits" : paint(" is too light for this load", "33")) << "\n";
    out.unsetf(std::ios::fixed);
  }
  out << "\n" << s.plan.count(Action::Keep) << " ok, " << s.plan.count(Action::Write) << " drifted, "
      << s.plan.count(Action::Skip) << " not applicable\n";
}

void render_status_prometheus(std::ostream& out, const Status& s) {
  const auto esc = [](const std::string& v) {
    std::string o;
    for (char c : v) {
      if (c == '\\' || c == '"') o += '\\';
      if (c == '\n') {
        o += "\\n";
        continue;
      }
      o += c;
    }
    return o;
  };
  const auto help = [&](const char* name, const char* type, const char* text) {
    out << "# HELP " << name << " " << text << "\n# TYPE " << name << " " << type << "\n";
  };
  help("guest_nettune_info", "gauge", "Kernel, driver behaviour and profile (value 1).");
  out << "guest_nettune_info{kernel=\"" << esc(s.facts.kernel.text) << "\",driver_behaviour=\""
      << to_string(s.facts.behaviour) << "\",profile=\"" << to_string(s.policy.profile) << "\"} 1\n";
  help("guest_nettune_settings", "gauge", "Planned settings by state.");
  out << "guest_nettune_settings{state=\"ok\"} " << s.plan.count(Action::Keep) << "\n";
  out << "guest_nettune_settings{state=\"drift\"} " << s.plan.count(Action::Write) << "\n";
  out << "guest_nettune_settings{state=\"not_applicable\"} " << s.plan.count(Action::Skip) << "\n";
  help("guest_nettune_drift", "gauge", "Settings that differ from the plan, per NIC (\"\" for sysctls).");
  std::map<std::string, unsigned> drift;
  for (const auto& n : s.plan.nics)
    if (n.role == "tunable") drift[n.name] = 0;
  drift[""] = 0;
  for (const auto& st : s.plan.settings) drift[st.nic.str()] += st.action == Action::Write;
  for (const auto& [nic, n] : drift) out << "guest_nettune_drift{nic=\"" << esc(nic) << "\"} " << n << "\n";
  help("guest_nettune_queues", "gauge", "Queues per tunable NIC: current, planned, max.");
  for (const auto& n : s.plan.nics) {
    if (n.role != "tunable") continue;
    out << "guest_nettune_queues{nic=\"" << esc(n.name) << "\",kind=\"current\"} " << n.queues_current << "\n";
    out << "guest_nettune_queues{nic=\"" << esc(n.name) << "\",kind=\"planned\"} " << n.queues_planned << "\n";
    out << "guest_nettune_queues{nic=\"" << esc(n.name) << "\",kind=\"max\"} " << n.queues_max << "\n";
  }
  help("guest_nettune_journal_entries", "gauge", "Original values kept for revert.");
  out << "guest_nettune_journal_entries " << s.journal_targets.size() << "\n";
  help("guest_nettune_journal_readable", "gauge", "0 when the journal cannot be read (revert refuses it; status --json says why).");
  out << "guest_nettune_journal_readable " << (s.journal_error.empty() ? 1 : 0) << "\n";
  if (s.last_apply) {
    help("guest_nettune_last_apply_success", "gauge", "1 when the last apply wrote everything it planned.");
    out << "guest_nettune_last_apply_success " << (s.last_apply->value("result", std::string()) == "ok" ? 1 : 0) << "\n";
    if (s.last_apply->contains("epoch")) {
      help("guest_nettune_last_apply_timestamp_seconds", "gauge", "When the last apply ran (Unix time).");
      out << "guest_nettune_last_apply_timestamp_seconds " << (*s.last_apply)["epoch"].get<long long>() << "\n";
    }
  }
  help("guest_nettune_softnet_dropped_total", "counter", "Packets dropped from the backlog, per CPU (softnet_stat).");
  for (const auto& [cpu, r] : s.facts.softnet)
    out << "guest_nettune_softnet_dropped_total{cpu=\"" << cpu << "\"} " << r.dropped << "\n";
  help("guest_nettune_softnet_time_squeeze_total", "counter", "NAPI runs out of budget or time, per CPU (softnet_stat).");
  for (const auto& [cpu, r] : s.facts.softnet)
    out << "guest_nettune_softnet_time_squeeze_total{cpu=\"" << cpu << "\"} " << r.time_squeeze << "\n";
  if (s.load) {
    help("guest_nettune_packets_per_second", "gauge", "Sampled packet rate per NIC and direction.");
    for (const auto& n : s.load->nics) {
      out << "guest_nettune_packets_per_second{nic=\"" << esc(n.nic) << "\",direction=\"rx\"} " << n.rx_pps << "\n";
      out << "guest_nettune_packets_per_second{nic=\"" << esc(n.nic) << "\",direction=\"tx\"} " << n.tx_pps << "\n";
    }
    help("guest_nettune_profile_fits", "gauge", "1 when the active profile suits the sampled load tier.");
    out << "guest_nettune_profile_fits{tier=\"" << s.load->tier << "\"} " << (s.load->profile_fits ? 1 : 0) << "\n";
  }
}

}  // namespace gn
