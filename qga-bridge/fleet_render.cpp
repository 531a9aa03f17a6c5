#include "fleet_render.h"

#include <algorithm>
#include <iomanip>
#include <map>
#include <ostream>
#include <type_traits>

#include "neutralise.h"

namespace gn::qga {

using nlohmann::json;

std::string escape_label_value(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::optional<unsigned> cpulist_count(const std::string& list) {
  if (list.empty()) return 0u;
  unsigned long long total = 0;
  size_t i = 0;
  const auto number = [&](unsigned long long& v) {
    if (i >= list.size() || list[i] < '0' || list[i] > '9') return false;
    v = 0;
    while (i < list.size() && list[i] >= '0' && list[i] <= '9') {
      v = v * 10 + static_cast<unsigned>(list[i++] - '0');
      if (v > 1'000'000) return false;
    }
    return true;
  };
  while (i < list.size()) {
    unsigned long long a = 0, b = 0;
    if (!number(a)) return std::nullopt;
    b = a;
    if (i < list.size() && list[i] == '-') {
      ++i;
      if (!number(b) || b < a) return std::nullopt;
    }
    total += b - a + 1;
    if (total > 1'000'000) return std::nullopt;
    if (i < list.size() && (list[i++] != ',' || i == list.size())) return std::nullopt;
  }
  return static_cast<unsigned>(total);
}

namespace {

// Reads of the guest's document that never throw, whatever it holds.
std::string str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}
long long num(const json& j, const char* key, long long fallback = 0) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<long long>() : fallback;
}
const json& member(const json& j, const char* key) {
  static const json null;
  return j.is_object() && j.contains(key) ? j[key] : null;
}

// A guest's string for a person or a label: neutralised, then cut to a sane length.
std::string guest(const std::string& s, size_t max = 64) { return neutralise(s, max); }

// NICs shown per guest: a hostile guest does not get to mint unbounded series.
constexpr size_t kMaxNicsPerGuest = 64;

struct Summary {
  std::string kernel, profile, last_apply, queues;
  long long drift = 0;
};

Summary summarise(const GuestRow& r) {
  Summary s;
  const json& d = r.status;
  s.kernel = guest(str(member(d, "kernel"), "release"), 40);
  s.profile = guest(str(d, "profile"), 16);
  s.drift = num(member(d, "summary"), "drift");
  const json& la = member(d, "last_apply");
  s.last_apply = la.is_object() ? guest(str(la, "result"), 16) : "none";
  size_t n = 0;
  for (const auto& nic : member(d, "nics")) {
    if (str(nic, "role") != "tunable" || n++ >= 8) continue;
    s.queues += (s.queues.empty() ? "" : " ") + guest(str(nic, "name"), 15) + ":" +
                std::to_string(num(nic, "queues_current")) + "/" + std::to_string(num(nic, "queues_max"));
  }
  return s;
}

}  // namespace

void render_fleet_table(std::ostream& out, const std::vector<GuestRow>& rows, const std::string& empty_note) {
  if (rows.empty()) {
    out << empty_note << "\n";
    return;
  }
  std::vector<Summary> sums;
  size_t name_w = 5, kernel_w = 6;
  for (const auto& r : rows) {
    sums.push_back(summarise(r));
    name_w = std::max(name_w, guest(r.name).size());
    kernel_w = std::max(kernel_w, sums.back().kernel.size());
  }
  name_w = std::min<size_t>(name_w, 48);
  out << std::left << std::setw(static_cast<int>(name_w + 2)) << "GUEST" << std::setw(15) << "ANSWER"
      << std::setw(static_cast<int>(kernel_w + 2)) << "KERNEL" << std::setw(12) << "PROFILE" << std::setw(7) << "DRIFT"
      << std::setw(12) << "LAST APPLY" << "QUEUES (current/max) or why not\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const auto& s = sums[i];
    out << std::setw(static_cast<int>(name_w + 2)) << guest(r.name, name_w) << std::setw(15) << to_string(r.cls);
    if (r.cls == GuestClass::Ok)
      out << std::setw(static_cast<int>(kernel_w + 2)) << s.kernel << std::setw(12) << s.profile << std::setw(7)
          << s.drift << std::setw(12) << s.last_apply << (s.queues.empty() ? "-" : s.queues) << "\n";
    else
      out << guest(r.error, 200) << "\n";
  }
}

void render_fleet_json(std::ostream& out, const std::vector<GuestRow>& rows) {
  json arr = json::array();
  for (const auto& r : rows) {
    json row = {{"domain", r.name}, {"answer", to_string(r.cls)}, {"exit_code", exit_code_of(r.cls)},
                {"reachable", r.reachable}, {"seconds", r.seconds}};
    if (r.exec_enabled) row["exec_enabled"] = *r.exec_enabled;
    if (r.cls == GuestClass::Ok) {
      const Summary s = summarise(r);
      row["kernel"] = s.kernel;
      row["profile"] = s.profile;
      row["drift"] = s.drift;
      row["last_apply"] = s.last_apply;
      row["queues"] = s.queues;
    } else {
      row["error"] = guest(r.error, 1000);
    }
    arr.push_back(row);
  }
  out << dump_for_people(arr) << "\n";
}

namespace {

class Exposition {
 public:
  explicit Exposition(std::ostream& out) : out_(out) {}
  void family(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  // name{labels} value, label values escaped here.
  // Counts print as integers, bools as 0/1, durations as decimals.
  template <class T>
  void sample(const char* name, const std::vector<std::pair<const char*, std::string>>& labels, T value) {
    out_ << name;
    if (!labels.empty()) {
      out_ << "{";
      for (size_t i = 0; i < labels.size(); ++i)
        out_ << (i ? "," : "") << labels[i].first << "=\"" << escape_label_value(labels[i].second) << "\"";
      out_ << "}";
    }
    if constexpr (std::is_same_v<T, bool>) out_ << " " << (value ? 1 : 0) << "\n";
    else out_ << " " << value << "\n";
  }

 private:
  std::ostream& out_;
};

}  // namespace

void render_fleet_prometheus(std::ostream& out, const std::vector<GuestRow>& rows, const FleetRun& run) {
  // Each metric family is written once, with every guest's samples under it (the format wants
  // a family's samples together).
  Exposition e(out);
  out << std::setprecision(15);
  e.family("guest_nettune_host_guests", "gauge", "Guests asked in the last run, by source (libvirt or sockets).");
  e.sample("guest_nettune_host_guests", {{"source", run.source}}, rows.size());
  e.family("guest_nettune_host_run_seconds", "gauge", "How long the last run took to ask every guest.");
  e.sample("guest_nettune_host_run_seconds", {}, run.seconds);
  e.family("guest_nettune_host_run_timestamp_seconds", "gauge", "When the last run ended (Unix time).");
  e.sample("guest_nettune_host_run_timestamp_seconds", {}, run.finished);

  // Domain names and socket paths come from the host (libvirt, the file system), not from a
  // guest: they are kept exactly as virsh shows them, and only escaped.
  std::vector<std::string> names;
  for (const auto& r : rows) names.push_back(r.name);
  const auto each = [&](const char* name, const char* type, const char* help, auto&& fn) {
    e.family(name, type, help);
    for (size_t i = 0; i < rows.size(); ++i) fn(rows[i], names[i]);
  };
  const auto ok = [](const GuestRow& r) { return r.cls == GuestClass::Ok; };

  each("guest_nettune_guest_up", "gauge", "1 when the guest's guest-nettune status was read and usable.",
       [&](const GuestRow& r, const std::string& d) { e.sample("guest_nettune_guest_up", {{"domain", d}}, ok(r)); });
  each("guest_nettune_guest_reachable", "gauge", "1 when the guest's qemu-guest-agent answered.",
       [&](const GuestRow& r, const std::string& d) {
         e.sample("guest_nettune_guest_reachable", {{"domain", d}}, r.reachable);
       });
  each("guest_nettune_guest_exec_enabled", "gauge", "1 when the guest agent allows guest-exec (absent when unknown).",
       [&](const GuestRow& r, const std::string& d) {
         if (r.exec_enabled) e.sample("guest_nettune_guest_exec_enabled", {{"domain", d}}, *r.exec_enabled);
       });
  each("guest_nettune_guest_answer", "gauge",
       "1 for the class of the guest's answer: ok, no_agent, timeout, exec_disabled, agent_missing, agent_failed, "
       "bad_reply.",
       [&](const GuestRow& r, const std::string& d) {
         e.sample("guest_nettune_guest_answer", {{"domain", d}, {"class", to_string(r.cls)}}, 1);
       });
  each("guest_nettune_guest_exit_code", "gauge",
       "The exit code guest-nettune-host would give for this guest alone (0 ok, 10-14 see the man page).",
       [&](const GuestRow& r, const std::string& d) {
         e.sample("guest_nettune_guest_exit_code", {{"domain", d}}, exit_code_of(r.cls));
       });
  each("guest_nettune_guest_answer_seconds", "gauge", "How long the guest took to answer (or to be given up).",
       [&](const GuestRow& r, const std::string& d) {
         e.sample("guest_nettune_guest_answer_seconds", {{"domain", d}}, r.seconds);
       });
  each("guest_nettune_guest_schema_version", "gauge", "The status schema version the guest's guest-nettune speaks.",
       [&](const GuestRow& r, const std::string& d) {
         if (ok(r)) e.sample("guest_nettune_guest_schema_version", {{"domain", d}}, num(r.status, "schema_version"));
       });
  each("guest_nettune_guest_info", "gauge", "The guest's kernel, its virtio_net behaviour and the profile (value 1).",
       [&](const GuestRow& r, const std::string& d) {
         if (!ok(r)) return;
         const json& k = member(r.status, "kernel");
         e.sample("guest_nettune_guest_info",
                  {{"domain", d},
                   {"kernel", guest(str(k, "release"), 64)},
                   {"driver_behaviour", guest(str(k, "driver_behaviour"), 32)},
                   {"profile", guest(str(r.status, "profile"), 16)}},
                  1);
       });
  each("guest_nettune_guest_settings", "gauge", "Planned settings by state (ok, drift, not_applicable).",
       [&](const GuestRow& r, const std::string& d) {
         if (!ok(r)) return;
         const json& s = member(r.status, "summary");
         for (const char* state : {"ok", "drift", "not_applicable"})
           e.sample("guest_nettune_guest_settings", {{"domain", d}, {"state", state}}, num(s, state));
       });
  each("guest_nettune_guest_drift", "gauge", "Settings that differ from the plan, per NIC (nic=\"\" for sysctls).",
       [&](const GuestRow& r, const std::string& d) {
         if (!ok(r)) return;
         std::map<std::string, long long> drift;
         for (const auto& n : member(r.status, "nics"))
           if (str(n, "role") == "tunable" && drift.size() < kMaxNicsPerGuest) drift[guest(str(n, "name"), 15)] = 0;
         for (const auto& s : member(r.status, "settings")) {
           if (str(s, "state") != "drift") continue;
           const std::string nic = guest(str(s, "nic"), 15);
           if (drift.count(nic) || drift.size() < kMaxNicsPerGuest) ++drift[nic];
         }
         for (const auto& [nic, n] : drift) e.sample("guest_nettune_guest_drift", {{"domain", d}, {"nic", nic}}, n);
       });
  each("guest_nettune_guest_queues", "gauge", "Queues per tunable NIC: current, planned, max.",
       [&](const GuestRow& r, const std::string& d) {
         if (!ok(r)) return;
         size_t n = 0;
         for (const auto& nic : member(r.status, "nics")) {
           if (str(nic, "role") != "tunable" || n++ >= kMaxNicsPerGuest) continue;
           const std::string name = guest(str(nic, "name"), 15);
           for (const auto& [kind, key] : {std::pair{"current", "queues_current"}, std::pair{"planned", "queues_planned"},
                                           std::pair{"max", "queues_max"}})
             e.sample("guest_nettune_guest_queues", {{"domain", d}, {"nic", name}, {"kind", kind}}, num(nic, key));
         }
       });
  each("guest_nettune_guest_vcpus", "gauge", "Online CPUs in the guest.", [&](const GuestRow& r, const std::string& d) {
    if (!ok(r)) return;
    if (auto n = cpulist_count(str(member(r.status, "cpus"), "online")))
      e.sample("guest_nettune_guest_vcpus", {{"domain", d}}, *n);
  });
  each("guest_nettune_guest_last_apply_success", "gauge",
       "1 when the guest's last apply wrote everything it planned, 0 when it was partial (absent: none recorded).",
       [&](const GuestRow& r, const std::string& d) {
         const json& la = member(r.status, "last_apply");
         if (ok(r) && la.is_object())
           e.sample("guest_nettune_guest_last_apply_success", {{"domain", d}}, str(la, "result") == "ok");
       });
  each("guest_nettune_guest_last_apply_timestamp_seconds", "gauge", "When the guest's last apply ran (Unix time).",
       [&](const GuestRow& r, const std::string& d) {
         const json& la = member(r.status, "last_apply");
         if (ok(r) && la.is_object() && la.contains("epoch") && la["epoch"].is_number_integer())
           e.sample("guest_nettune_guest_last_apply_timestamp_seconds", {{"domain", d}}, num(la, "epoch"));
       });
  for (const auto& [name, key, help] :
       {std::tuple{"guest_nettune_guest_softnet_dropped_total", "dropped",
                   "Packets the guest's kernel dropped from its backlog, all CPUs (softnet_stat)."},
        std::tuple{"guest_nettune_guest_softnet_time_squeeze_total", "time_squeeze",
                   "NAPI runs that ran out of budget or time in the guest, all CPUs (softnet_stat)."}}) {
    each(name, "counter", help, [&, name = name, key = key](const GuestRow& r, const std::string& d) {
      if (!ok(r) || !member(r.status, "softnet").is_array()) return;
      unsigned long long total = 0;
      for (const auto& c : member(r.status, "softnet")) total += static_cast<unsigned long long>(std::max(0LL, num(c, key)));
      e.sample(name, {{"domain", d}}, total);
    });
  }
}

}  // namespace gn::qga
