// Channel counts of a NIC, as `ethtool -l` shows them and `ethtool -L` sets them. A value:
// reading and setting them is EthtoolIo's job (ethtool.h).
#pragma once

#include <cstdint>
#include <string>

namespace gn {

struct Channels {
  uint32_t max_rx = 0, max_tx = 0, max_other = 0, max_combined = 0;
  uint32_t rx = 0, tx = 0, other = 0, combined = 0;
  // virtio_net has combined channels only; veth has separate rx/tx.
  bool combined_kind() const { return max_combined > 0; }
  bool operator==(const Channels& o) const {
    return max_rx == o.max_rx && max_tx == o.max_tx && max_other == o.max_other &&
           max_combined == o.max_combined && rx == o.rx && tx == o.tx && other == o.other &&
           combined == o.combined;
  }
};

// "combined 4" or "rx 4 tx 4", the way ethtool -L takes them.
std::string channels_setting_text(const Channels& c);

}  // namespace gn
