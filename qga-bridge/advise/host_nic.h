// What advise asks of a host's physical NICs through ethtool (ring sizes as `ethtool -g` shows
// them, the UDP/IPv4 RX hash fields as `ethtool -n NIC rx-flow-hash udp4` shows them), behind a
// narrow interface: the SIOCETHTOOL ioctl on a live host, a file per NIC in a host snapshot, a
// fake in tests. Read only: advise never sets anything.
#pragma once

#include <cstdint>
#include <string>

#include "result.h"
#include "sysroot.h"

namespace gn::advise {

struct Rings {
  uint32_t rx = 0, tx = 0, rx_max = 0, tx_max = 0;
};

// RXH_* bits of the UDP/IPv4 RX flow hash (linux/ethtool.h): s d f n as ethtool names them.
namespace rxh {
inline constexpr uint64_t kIpSrc = 1u << 4;   // s
inline constexpr uint64_t kIpDst = 1u << 5;   // d
inline constexpr uint64_t kL4_01 = 1u << 6;   // f: source port
inline constexpr uint64_t kL4_23 = 1u << 7;   // n: destination port
inline constexpr uint64_t kSdfn = kIpSrc | kIpDst | kL4_01 | kL4_23;
}  // namespace rxh
// "sdfn", "sd", "" as ethtool's letters; parse_rxh refuses other letters.
std::string rxh_letters(uint64_t bits);
Result<uint64_t> parse_rxh(const std::string& letters);

class HostNicIo {
 public:
  virtual ~HostNicIo() = default;
  virtual Result<Rings> rings(const std::string& nic) = 0;         // ETHTOOL_GRINGPARAM
  virtual Result<uint64_t> udp4_hash(const std::string& nic) = 0;  // ETHTOOL_GRXFH, UDP_V4_FLOW
};

class IoctlHostNic : public HostNicIo {
 public:
  Result<Rings> rings(const std::string& nic) override;
  Result<uint64_t> udp4_hash(const std::string& nic) override;
};

// A host snapshot's guest-nettune-snapshot/host-ethtool/NIC file:
//   rx 512 / rx_max 4096 / tx 512 / tx_max 4096 / udp4 sd   (one "key value" per line)
// A missing key reads as "not supported" (EOPNOTSUPP).
class SnapshotHostNic : public HostNicIo {
 public:
  explicit SnapshotHostNic(const SysRoot& root) : root_(root) {}
  Result<Rings> rings(const std::string& nic) override;
  Result<uint64_t> udp4_hash(const std::string& nic) override;

 private:
  const SysRoot& root_;
};
inline const std::string kSnapshotHostEthtool = "guest-nettune-snapshot/host-ethtool";

}  // namespace gn::advise
