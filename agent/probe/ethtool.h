// What the agent asks of ethtool (driver name, channel counts as `ethtool -l/-L` shows and sets
// them), behind a narrow interface: the SIOCETHTOOL ioctl on a live system, a per-NIC file in a
// snapshot, a fake in tests. The agent never runs the ethtool program.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>
#include <string>

#include "channels.h"
#include "result.h"
#include "sysroot.h"

namespace gn {

struct TxOffloads {
  bool tx_checksum = false, scatter_gather = false, tso = false;
};

class EthtoolIo {
 public:
  virtual ~EthtoolIo() = default;
  // The driver's name (ETHTOOL_GDRVINFO): "virtio_net", "veth", "bonding", ...
  virtual Result<std::string> driver(const std::string& nic) = 0;
  // Error code EOPNOTSUPP when the NIC has no channel support.
  virtual Result<Channels> channels(const std::string& nic) = 0;
  // Sets the current counts (rx, tx, other, combined) of `want`.
  virtual Result<void> set_channels(const std::string& nic, const Channels& want) = 0;
  // The driver's statistics (what `ethtool -S` prints), by name. EOPNOTSUPP when there are none.
  virtual Result<std::vector<std::pair<std::string, uint64_t>>> stats(const std::string& nic) {
    return make_error(nic, "no driver statistics here", {}, EOPNOTSUPP);
  }
  // Transmit offloads (ETHTOOL_GTXCSUM, ETHTOOL_GSG, ETHTOOL_GTSO).
  virtual Result<TxOffloads> tx_offloads(const std::string& nic) {
    return make_error(nic, "no offload information here", {}, EOPNOTSUPP);
  }
};

// ETHTOOL_GDRVINFO, ETHTOOL_GCHANNELS and ETHTOOL_SCHANNELS through SIOCETHTOOL: 3.10 to 6.x.
class IoctlEthtool : public EthtoolIo {
 public:
  Result<std::string> driver(const std::string& nic) override;
  Result<Channels> channels(const std::string& nic) override;
  Result<void> set_channels(const std::string& nic, const Channels& want) override;
  Result<std::vector<std::pair<std::string, uint64_t>>> stats(const std::string& nic) override;
  Result<TxOffloads> tx_offloads(const std::string& nic) override;
};

// A snapshot's guest-nettune-snapshot/ethtool/NIC file. Setting channels adds or removes queue
// directories the way the kernel does (new ones start at defaults: empty masks, flow count 0).
class SnapshotEthtool : public EthtoolIo {
 public:
  explicit SnapshotEthtool(const SysRoot& root) : root_(root) {}
  Result<std::string> driver(const std::string& nic) override;
  Result<Channels> channels(const std::string& nic) override;
  Result<void> set_channels(const std::string& nic, const Channels& want) override;

 private:
  const SysRoot& root_;
};

// The snapshot file: "driver NAME" and, when the NIC has channels, eight "key count" lines.
struct EthtoolFile {
  std::string driver;
  std::optional<Channels> channels;
};
std::string format_ethtool_file(const EthtoolFile& f);
Result<EthtoolFile> parse_ethtool_file(const std::string& text);

}  // namespace gn
