#include "probe.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "interrupts.h"
#include "neutralise.h"
#include "softnet.h"

namespace gn {

namespace {

// One copy of each text the probe reads (SysFile), kept while it probes.
class TextPool {
 public:
  Shared<std::string> share(std::string text) {
    if (auto it = pool_.find(text); it != pool_.end()) return it->second;
    auto shared = Shared<std::string>::make(std::move(text));
    pool_.emplace(*shared, shared);
    return shared;
  }

 private:
  std::unordered_map<std::string_view, Shared<std::string>> pool_;  // keys view the values
};

// Reads one kernel file into a SysFile (never fails: the failure is recorded in it); a target
// file, kept open when the root keeps targets (SysRoot::keep_targets).
SysFile read_sysfile(const SysRoot& root, const std::string& rel, TextPool& pool) {
  SysFile f;
  auto text = root.read_target(rel);
  if (!text) {
    f.error = text.error().code;
    return f;
  }
  // Trimmed where it stands.
  const std::string_view kept = trim(*text);
  if (kept.empty()) {
    text->clear();
  } else {
    const size_t from = static_cast<size_t>(kept.data() - text->data());
    text->erase(from + kept.size());
    text->erase(0, from);
  }
  f.text = pool.share(std::move(*text));
  return f;
}

std::string basename_of(const std::string& p) {
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

bool is_number(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Reads a required CPU list; the error names the file.
Result<CpuSet> read_cpulist(const SysRoot& root, const std::string& rel, bool required) {
  auto text = root.read(rel);
  if (!text) {
    if (!required && text.error().code == ENOENT) return CpuSet{};
    return text.error();
  }
  auto set = parse_cpulist(*text);
  if (!set) return make_error(root.display(rel), set.error().message, "is this a Linux sysfs tree?");
  return set;
}

Result<CpuFacts> probe_cpus(const SysRoot& root) {
  CpuFacts c;
  const std::string dir = paths::kCpuDir;
  auto possible = read_cpulist(root, dir + "/possible", true);
  if (!possible) return possible.error();
  auto present = read_cpulist(root, dir + "/present", false);
  if (!present) return present.error();
  auto online = read_cpulist(root, dir + "/online", true);
  if (!online) return online.error();
  auto isolated = read_cpulist(root, dir + "/isolated", false);
  if (!isolated) return isolated.error();
  auto nohz = read_cpulist(root, dir + "/nohz_full", false);
  if (!nohz) return nohz.error();
  c.possible = *possible;
  c.present = *present;
  c.online = *online;
  c.isolated = *isolated;
  c.nohz_full = *nohz;
  c.nr_cpu_ids = std::max(c.possible.end(), c.online.end());

  // SMT siblings: each online CPU's thread_siblings_list (core_cpus_list is the same thing on 5.x+).
  CpuSet seen;
  for (unsigned cpu : c.online.cpus()) {
    if (seen.has(cpu)) continue;
    const std::string topo = dir + "/cpu" + std::to_string(cpu) + "/topology/thread_siblings_list";
    auto sib = read_cpulist(root, topo, false);
    if (!sib) return sib.error();
    CpuSet core = (*sib & c.online) | CpuSet::of({cpu});
    core = core - seen;
    seen = seen | core;
    c.cores.push_back(core);
  }

  // NUMA nodes: nodeN/cpulist; a kernel without NUMA has one node with every CPU.
  auto nodes = root.list(paths::kNodeDir, "node");
  if (nodes) {
    for (const auto& e : *nodes) {
      if (e.name.rfind("node", 0) != 0 || !is_number(e.name.substr(4))) continue;
      const unsigned id = static_cast<unsigned>(std::stoul(e.name.substr(4)));
      auto cpus = read_cpulist(root, paths::kNodeDir + "/" + e.name + "/cpulist", true);
      if (!cpus) return cpus.error();
      if (c.nodes.size() <= id) c.nodes.resize(id + 1);
      c.nodes[id] = *cpus & c.online;
    }
  }
  if (c.nodes.empty()) c.nodes.push_back(c.online);
  return c;
}

const std::set<std::string>& upper_kinds() {
  static const std::set<std::string> k = {"bond", "bridge", "team", "vlan", "macvlan", "macvtap", "ipvlan", "vrf"};
  return k;
}

// The kind of an upper device from uevent's DEVTYPE, or from the driver's name.
std::string upper_kind(const SysRoot& root, const std::string& nic, const std::string& driver) {
  auto uevent = root.read(paths::kNetClass + "/" + nic + "/uevent");
  if (uevent) {
    const auto pos = uevent->find("DEVTYPE=");
    if (pos != std::string::npos) {
      const auto end = uevent->find('\n', pos);
      const std::string t = uevent->substr(pos + 8, end == std::string::npos ? end : end - pos - 8);
      if (upper_kinds().count(t)) return t;
    }
  }
  if (driver == "bonding") return "bond";
  if (driver == "bridge") return "bridge";
  if (driver == "team") return "team";
  if (driver == "802.1Q VLAN Support") return "vlan";
  if (driver == "macvlan") return "macvlan";
  return {};
}

// The queue directories and, in each, the files of the catalogue's kinds that live there and
// that the profile plans (nothing else is read).
Result<void> probe_queues(const SysRoot& root, const ProbeOptions& opts, Nic& n, TextPool& pool) {
  const std::string qdir = paths::kNetClass + "/" + n.name + "/queues";
  auto entries = root.list(qdir);
  if (!entries) return entries.error();
  const auto wanted = [&](const KindRow& k, Place place) { return k.place == place && (k.profiles & opts.profiles); };
  const auto files_of = [&](Place place) {
    return static_cast<size_t>(std::count_if(std::begin(kKinds), std::end(kKinds), [&](const KindRow& k) { return wanted(k, place); }));
  };
  const size_t tx_files = files_of(Place::TxQueue), rx_files = files_of(Place::RxQueue);
  const auto dirs_of = [&](const char* prefix) {
    return static_cast<size_t>(
        std::count_if(entries->begin(), entries->end(), [&](const auto& e) { return e.name.rfind(prefix, 0) == 0; }));
  };
  n.tx.reserve(dirs_of("tx-"));  // at most: one vector each, never grown
  n.rx.reserve(dirs_of("rx-"));
  for (const auto& e : *entries) {
    const bool tx = e.name.rfind("tx-", 0) == 0, rx = e.name.rfind("rx-", 0) == 0;
    if ((!tx && !rx) || !is_number(e.name.substr(3))) continue;
    Queue q;
    if (e.name.size() > 8 || std::stoul(e.name.substr(3)) > static_cast<unsigned long>(kMaxQueue)) {
      // No target can name it (catalogue.h): the NIC is left alone, and says why.
      n.role = NicRole::Other;
      n.why = "queue " + e.name + " is past " + std::to_string(kMaxQueue) + ", virtio-net's last: left alone";
      n.tx.clear();
      n.rx.clear();
      return {};
    }
    q.index = static_cast<unsigned>(std::stoul(e.name.substr(3)));
    const std::string dir = qdir + "/" + e.name + "/";
    q.files.reserve(tx ? tx_files : rx_files);  // exactly: a wide guest has thousands of queues
    for (const auto& k : kKinds)
      if (wanted(k, tx ? Place::TxQueue : Place::RxQueue))
        q.files.emplace_back(k.kind, read_sysfile(root, dir + k.file, pool));
    (tx ? n.tx : n.rx).push_back(std::move(q));
  }
  const auto by_index = [](const Queue& a, const Queue& b) { return a.index < b.index; };
  std::sort(n.tx.begin(), n.tx.end(), by_index);
  std::sort(n.rx.begin(), n.rx.end(), by_index);
  return {};
}

// /proc/interrupts line by line (a column per CPU: tens of MB on a wide guest): each virtio
// queue IRQ (input, output, shared or legacy vector) goes to the NIC of its device, in the order
// of the lines, with its smp_affinity read; nothing else of the file is kept. An unreadable file
// leaves the IRQs unknown (none attached); malformed text is an error.
Result<void> attach_irqs(const SysRoot& root, std::vector<Nic>& nics, TextPool& pool) {
  // A vector for each queue's input and output, one shared by all, or one legacy line: room for
  // the most (the vector grows only if a device has more).
  for (auto& n : nics)
    if (!n.virtio_device.empty()) n.irqs.reserve(n.rx.size() + n.tx.size());
  const auto nic_of = [&](const std::string& device) -> Nic* {
    for (auto& n : nics)
      if (n.virtio_device == device) return &n;
    return nullptr;
  };
  InterruptsLines parser;
  std::optional<Error> bad;  // the text, not the file, is wrong
  auto read = root.read_lines(paths::kInterrupts, [&](std::string_view text) -> Result<void> {
    auto line = parser.next(text);
    if (!line) {
      bad = line.error();
      return line.error();
    }
    if (!*line) return {};
    for (auto& name : (*line)->names) {
      const auto v = parse_virtio_irq_name(name);
      if (!v) continue;
      QueueIrq q;
      switch (v->kind) {
        case VirtioIrqKind::Input: q.role = IrqRole::Input; break;
        case VirtioIrqKind::Output: q.role = IrqRole::Output; break;
        case VirtioIrqKind::Shared: q.role = IrqRole::Shared; break;
        case VirtioIrqKind::Legacy: q.role = IrqRole::Legacy; break;
        default: continue;
      }
      Nic* n = nic_of(v->device);
      if (n == nullptr) continue;
      q.irq = (*line)->irq;
      q.queue = v->queue;
      q.name = std::move(name);
      const std::string dir = paths::kIrqDir + "/" + std::to_string(q.irq);
      q.smp_affinity = read_sysfile(root, dir + "/" + row(SettingKind::IrqAffinity).file, pool);
      n->irqs.push_back(std::move(q));
    }
    return {};
  });
  if (read && !parser.finish()) bad = parser.finish().error();
  if (bad) return make_error(root.display(paths::kInterrupts), bad->message);
  if (!read)
    for (auto& n : nics) n.irqs.clear();
  return {};
}

}  // namespace

std::vector<std::string> lower_devices(const SysRoot& root, const std::string& nic) {
  const std::string base = paths::kNetClass + "/" + nic;
  std::vector<std::string> lowers;
  // lower_* links (3.11+), else a bond's slave list or a bridge's brif/.
  if (auto entries = root.list(base, "lower_")) {
    for (const auto& e : *entries)
      if (e.name.rfind("lower_", 0) == 0) lowers.push_back(e.name.substr(6));
  }
  if (lowers.empty()) {
    if (auto slaves = root.read(base + "/bonding/slaves")) {
      std::string s;
      for (char ch : *slaves + " ") {
        if (ch == ' ' || ch == '\n') {
          if (!s.empty()) lowers.push_back(s);
          s.clear();
        } else {
          s += ch;
        }
      }
    } else if (auto brif = root.list(base + "/brif")) {
      for (const auto& e : *brif) lowers.push_back(e.name);
    }
  }
  // Names as the rest of the agent knows them (see probe_nic).
  for (auto& l : lowers) l = neutralise(l);
  std::sort(lowers.begin(), lowers.end());
  return lowers;
}

namespace {

Result<Nic> probe_nic(const SysRoot& root, EthtoolIo& ethtool, const ProbeOptions& opts, TextPool& pool,
                      const std::string& name) {
  Nic n;
  n.name = name;
  // The kernel takes any bytes in a name but '/', ':' and white space. One that is not plain
  // text (escape sequences, bytes that are not UTF-8) would reach an admin's terminal, or could
  // not be written to JSON or journalled: such a NIC is left alone, and known by its name
  // neutralised, which no real NIC can match.
  if (const std::string shown = neutralise(name); shown != name) {
    n.name = shown;
    n.role = NicRole::Other;
    n.why = "name is not plain text (shown escaped): left alone; rename the NIC to tune it";
    return n;
  }
  const std::string base = paths::kNetClass + "/" + name;
  auto canonical = root.resolve(base);
  if (!canonical) return canonical.error();
  n.device_path = *canonical;

  // The bus driver's link names real devices' drivers; virtual ones (veth, bond) have no device.
  if (auto link = root.readlink(base + "/device/driver")) {
    n.driver = basename_of(*link);
  } else if (auto drv = ethtool.driver(name)) {
    n.driver = *drv;
  }
  if (n.driver == "virtio_net") {
    if (auto dev = root.resolve(base + "/device")) n.virtio_device = basename_of(*dev);
  }

  n.lowers = lower_devices(root, name);
  n.kind = upper_kind(root, name, n.driver);

  if (!n.kind.empty() || !n.lowers.empty()) {
    n.role = NicRole::Upper;
    n.why = (n.kind.empty() ? std::string("upper device") : n.kind) + ": its lower devices are tuned instead";
    return n;
  }
  if (opts.drivers.count(n.driver) == 0) {
    n.role = NicRole::Other;
    n.why = n.driver.empty() ? "no driver (virtual device)"
                             : "driver " + n.driver + " is not tuned (add --driver " + n.driver + " to tune it)";
    if (name == "lo") n.why = "loopback";
    return n;
  }
  n.role = NicRole::Tunable;
  n.why = "driver " + n.driver;
  auto ch = ethtool.channels(name);
  if (ch) n.channels = *ch;
  else n.channels_error = ch.error().text();
  if (auto q = probe_queues(root, opts, n, pool); !q) return q.error();
  return n;
}

XpsRxqsProbe probe_xps_rxqs(const SysRoot& root, const std::vector<std::string>& names) {
  bool any_xps = false;
  for (const auto& name : names) {
    auto files = root.list(paths::kNetClass + "/" + name + "/queues/tx-0");
    if (!files) continue;
    for (const auto& f : *files) {
      if (f.name == "xps_rxqs") return XpsRxqsProbe::Present;
      if (f.name == "xps_cpus") any_xps = true;
    }
  }
  return any_xps ? XpsRxqsProbe::Absent : XpsRxqsProbe::Unknown;
}

bool irqbalance_running(const SysRoot& root) { return root.any_process_named("irqbalance"); }

}  // namespace

const Nic* Facts::find_nic(const std::string& name) const {
  for (const auto& n : nics)
    if (n.name == name) return &n;
  return nullptr;
}

const Sysctl* Facts::find_sysctl(const std::string& name) const {
  for (const auto& s : sysctls)
    if (s.name == name) return &s;
  return nullptr;
}

const char* to_string(IrqRole r) {
  switch (r) {
    case IrqRole::Input: return "input";
    case IrqRole::Output: return "output";
    case IrqRole::Shared: return "shared";
    case IrqRole::Legacy: return "legacy";
  }
  return "?";
}

const char* to_string(NicRole r) {
  switch (r) {
    case NicRole::Tunable: return "tunable";
    case NicRole::Upper: return "upper";
    case NicRole::Other: return "other";
  }
  return "?";
}

Result<Facts> probe(const SysRoot& root, EthtoolIo& ethtool, const ProbeOptions& opts) {
  Facts f;
  auto rel = root.read(paths::kOsRelease);
  if (!rel) return rel.error();
  auto k = parse_kernel_release(*rel);
  if (!k) return make_error(root.display(paths::kOsRelease), k.error().message);
  f.kernel = *k;

  auto cpus = probe_cpus(root);
  if (!cpus) return cpus.error();
  f.cpus = std::move(*cpus);

  auto entries = root.list(paths::kNetClass);
  if (!entries) return entries.error();
  TextPool pool;
  std::vector<std::string> names;
  for (const auto& e : *entries)
    if (e.type == DirEntry::Type::Link || e.type == DirEntry::Type::Dir) names.push_back(e.name);
  for (const auto& name : names) {
    auto nic = probe_nic(root, ethtool, opts, pool, name);
    if (!nic) {
      // A NIC that vanished while we looked is not a fact any more.
      if (nic.error().code == ENOENT || nic.error().code == ENODEV) continue;
      return nic.error();
    }
    f.nics.push_back(std::move(*nic));
  }
  if (auto r = attach_irqs(root, f.nics, pool); !r) return r.error();

  const auto verdict = classify_driver(f.kernel, probe_xps_rxqs(root, names));
  f.behaviour = verdict.behaviour;
  f.behaviour_evidence = verdict.evidence;

  for (const auto& r : kSysctls) {
    const Target t{SettingKind::Sysctl, SharedText(), -1, 0, &r};
    f.sysctls.push_back({sysctl_full_name(r), read_sysfile(root, t.path(), pool), &r});
  }
  const bool any_irqs = std::any_of(f.nics.begin(), f.nics.end(), [](const Nic& n) {
    return n.role == NicRole::Tunable && !n.irqs.empty();
  });
  if (!opts.plan_only || any_irqs) f.irqbalance_running = irqbalance_running(root);
  if (opts.plan_only) return f;
  if (auto text = root.read(paths::kSoftnetStat)) {
    auto s = parse_softnet_stat(*text);
    if (!s) return make_error(root.display(paths::kSoftnetStat), s.error().message);
    f.softnet_columns = s->columns;
    const auto online = f.cpus.online.cpus();
    for (size_t i = 0; i < s->rows.size(); ++i) {
      const auto& row = s->rows[i];
      const unsigned cpu = row.cpu ? *row.cpu : (i < online.size() ? online[i] : static_cast<unsigned>(i));
      f.softnet.emplace_back(cpu, row);
    }
  }
  // Mitigations the kernel reports (the source measured a loss from them on CentOS 7.6).
  const std::string vul = paths::kCpuDir + "/vulnerabilities";
  if (auto vulns = root.list(vul)) {
    for (const auto& e : *vulns) {
      auto text = root.read(vul + "/" + e.name);
      if (text && trim(*text).rfind("Mitigation", 0) == 0) f.mitigations.emplace_back(e.name, std::string(trim(*text)));
    }
  }
  return f;
}

}  // namespace gn
