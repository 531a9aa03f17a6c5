// Load observation, the source methodology's way: packets per second per NIC and per queue over
// an interval, drops and time_squeeze per CPU from softnet_stat, and the tier the load is in.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ethtool.h"
#include "facts.h"
#include "policy.h"
#include "sysroot.h"

namespace gn {

struct NicLoad {
  std::string nic;
  double rx_pps = 0, tx_pps = 0;
  std::map<unsigned, double> rx_queue_pps, tx_queue_pps;  // from the driver's statistics, when it has them
};

struct CpuLoad {
  unsigned cpu = 0;
  uint64_t dropped = 0, time_squeeze = 0, processed = 0;  // deltas over the interval
};

struct LoadSample {
  double seconds = 0;
  std::vector<NicLoad> nics;
  std::vector<CpuLoad> cpus;
  double peak_pps = 0;          // the busiest NIC's rx + tx
  std::string tier;             // idle | balanced | throughput | sriov
  std::string recommendation;   // in words
  std::optional<Profile> recommended;
  bool profile_fits = true;
};

// Parses per-queue counters from `ethtool -S` names: tx_queue_N_packets (about 4.16-6.9) and
// txN_packets (6.10+), the same for rx. Returns queue → packets.
std::map<unsigned, uint64_t> queue_packets(const std::vector<std::pair<std::string, uint64_t>>& stats, bool tx);

// The tier for a packet rate, as the source methodology draws them.
void classify_load(LoadSample& s, Profile active);

// Reads counters, waits `seconds`, reads again. Only NICs in `nics`.
Result<LoadSample> sample_load(const SysRoot& root, EthtoolIo& ethtool, const Facts& facts,
                               const std::vector<std::string>& nics, double seconds, Profile active);

}  // namespace gn
