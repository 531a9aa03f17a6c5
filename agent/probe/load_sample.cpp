#include "load_sample.h"

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "softnet.h"

#include <spdlog/spdlog.h>

namespace gn {

std::map<unsigned, uint64_t> queue_packets(const std::vector<std::pair<std::string, uint64_t>>& stats, bool tx) {
  std::map<unsigned, uint64_t> out;
  const std::string p1 = tx ? "tx_queue_" : "rx_queue_", p2 = tx ? "tx" : "rx", suffix = "_packets";
  for (const auto& [name, value] : stats) {
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const std::string head = name.substr(0, name.size() - suffix.size());
    std::string digits;
    if (head.rfind(p1, 0) == 0) digits = head.substr(p1.size());
    else if (head.rfind(p2, 0) == 0) digits = head.substr(p2.size());
    if (digits.empty() || digits.size() > 5) continue;
    bool ok = true;
    for (char c : digits) ok = ok && std::isdigit(static_cast<unsigned char>(c));
    if (ok) out[static_cast<unsigned>(std::stoul(digits))] = value;
  }
  return out;
}

void classify_load(LoadSample& s, Profile active) {
  const double pps = s.peak_pps;
  if (pps < 100e3) {
    s.tier = "idle";
    s.recommended = Profile::Observe;
    s.recommendation = "under 100 kpps: no tuning needed";
  } else if (pps < 500e3) {
    s.tier = "balanced";
    s.recommended = Profile::Balanced;
    s.recommendation = "100-500 kpps: channels, XPS, IRQ affinity, RPS/RFS (profile balanced)";
  } else if (pps <= 3e6) {
    s.tier = "throughput";
    s.recommended = Profile::Throughput;
    s.recommendation = "0.5-3 Mpps: balanced plus the NAPI budgets (profile throughput)";
  } else {
    s.tier = "sriov";
    s.recommended = Profile::Throughput;
    s.recommendation = "above ~3 Mpps: move this workload to SR-IOV or vDPA; virtio-net tuning will not carry it";
  }
  const auto rank = [](Profile p) {
    switch (p) {
      case Profile::Observe: return 0;
      case Profile::Balanced:
      case Profile::Latency: return 1;  // balanced plus busy polling
      case Profile::Throughput: return 2;
    }
    return 0;
  };
  s.profile_fits = !s.recommended || rank(active) >= rank(*s.recommended);
}

namespace {

struct Counters {
  std::map<std::string, std::pair<uint64_t, uint64_t>> nic;  // rx, tx packets
  std::map<std::string, std::map<unsigned, uint64_t>> rxq, txq;
  std::map<unsigned, SoftnetRow> cpu;
};

uint64_t read_counter(const SysRoot& root, const std::string& rel) {
  auto t = root.read(rel);
  return t ? std::strtoull(t->c_str(), nullptr, 10) : 0;
}

Counters read_counters(const SysRoot& root, EthtoolIo& ethtool, const Facts& facts, const std::vector<std::string>& nics) {
  Counters c;
  for (const auto& n : nics) {
    const std::string s = paths::kNetClass + "/" + n + "/statistics/";
    c.nic[n] = {read_counter(root, s + "rx_packets"), read_counter(root, s + "tx_packets")};
    if (auto st = ethtool.stats(n)) {
      c.rxq[n] = queue_packets(*st, false);
      c.txq[n] = queue_packets(*st, true);
    }
  }
  if (auto text = root.read(paths::kSoftnetStat)) {
    if (auto sn = parse_softnet_stat(*text)) {
      const auto online = facts.cpus.online.cpus();
      for (size_t i = 0; i < sn->rows.size(); ++i) {
        const unsigned cpu = sn->rows[i].cpu ? *sn->rows[i].cpu : (i < online.size() ? online[i] : static_cast<unsigned>(i));
        c.cpu[cpu] = sn->rows[i];
      }
    }
  }
  return c;
}

}  // namespace

Result<LoadSample> sample_load(const SysRoot& root, EthtoolIo& ethtool, const Facts& facts,
                               const std::vector<std::string>& nics, double seconds, Profile active) {
  LoadSample s;
  const auto t0 = std::chrono::steady_clock::now();
  const Counters a = read_counters(root, ethtool, facts, nics);
  spdlog::debug("sampling counters for {} s", seconds);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));  // the measurement interval
  const Counters b = read_counters(root, ethtool, facts, nics);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto rate = [&](uint64_t x, uint64_t y) { return y >= x ? static_cast<double>(y - x) / s.seconds : 0.0; };
  for (const auto& n : nics) {
    NicLoad l;
    l.nic = n;
    l.rx_pps = rate(a.nic.at(n).first, b.nic.at(n).first);
    l.tx_pps = rate(a.nic.at(n).second, b.nic.at(n).second);
    for (const auto& [q, v] : b.rxq.count(n) ? b.rxq.at(n) : std::map<unsigned, uint64_t>{})
      if (a.rxq.count(n) && a.rxq.at(n).count(q)) l.rx_queue_pps[q] = rate(a.rxq.at(n).at(q), v);
    for (const auto& [q, v] : b.txq.count(n) ? b.txq.at(n) : std::map<unsigned, uint64_t>{})
      if (a.txq.count(n) && a.txq.at(n).count(q)) l.tx_queue_pps[q] = rate(a.txq.at(n).at(q), v);
    s.peak_pps = std::max(s.peak_pps, l.rx_pps + l.tx_pps);
    s.nics.push_back(std::move(l));
  }
  for (const auto& [cpu, row] : b.cpu) {
    if (!a.cpu.count(cpu)) continue;
    const SoftnetRow& r0 = a.cpu.at(cpu);
    const auto d = [](uint64_t x, uint64_t y) { return y >= x ? y - x : 0; };
    s.cpus.push_back({cpu, d(r0.dropped, row.dropped), d(r0.time_squeeze, row.time_squeeze), d(r0.processed, row.processed)});
  }
  classify_load(s, active);
  return s;
}

}  // namespace gn
