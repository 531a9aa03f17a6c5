// /proc/net/softnet_stat: per-CPU packet, drop and squeeze counters (10, 11, 13 or 15 columns).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "result.h"

namespace gn {

struct SoftnetRow {
  std::optional<unsigned> cpu;  // from the cpu id column (5.10+); else the caller maps rows
                                // to online CPUs in order
  uint64_t processed = 0;
  uint64_t dropped = 0;
  uint64_t time_squeeze = 0;
  uint64_t received_rps = 0;
  std::optional<uint64_t> flow_limit;  // 3.11+
};

struct SoftnetStat {
  unsigned columns = 0;  // 10 (3.10), 11 (3.11+), 13 (5.10+), 15 (6.4+)
  std::vector<SoftnetRow> rows;
};

Result<SoftnetStat> parse_softnet_stat(std::string_view text);

}  // namespace gn
