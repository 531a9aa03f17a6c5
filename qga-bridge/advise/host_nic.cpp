#include "host_nic.h"

#include <linux/ethtool.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>

#include "domain.h"
#include "ethtool_ioctl.h"
#include "xml.h"

namespace gn::advise {

namespace {
constexpr std::pair<uint64_t, char> kLetters[] = {
    {rxh::kIpSrc, 's'}, {rxh::kIpDst, 'd'}, {rxh::kL4_01, 'f'}, {rxh::kL4_23, 'n'}};

Result<void> ethtool_read(const std::string& nic, void* data, const char* what) {
  if (!valid_ifname(nic)) return make_error(nic, "not a valid interface name", {}, EINVAL);
  auto err = gn::ethtool_ioctl(nic, data);
  if (!err) return err.error();
  if (*err == 0) return {};
  return make_error(nic, std::string(what) + ": " + std::strerror(*err), *err == EPERM ? "run as root" : "", *err);
}
}  // namespace

std::string rxh_letters(uint64_t bits) {
  std::string s;
  for (const auto& [bit, letter] : kLetters)
    if (bits & bit) s += letter;
  return s;
}

Result<uint64_t> parse_rxh(const std::string& letters) {
  uint64_t bits = 0;
  for (char c : letters) {
    bool known = false;
    for (const auto& [bit, letter] : kLetters)
      if (c == letter) {
        bits |= bit;
        known = true;
      }
    if (!known) return make_error("rx-flow-hash '" + letters.substr(0, 16) + "'", "letters other than s, d, f, n");
  }
  return bits;
}

Result<Rings> IoctlHostNic::rings(const std::string& nic) {
  struct ethtool_ringparam rp {};
  rp.cmd = ETHTOOL_GRINGPARAM;
  auto r = ethtool_read(nic, &rp, "reading ring sizes (ETHTOOL_GRINGPARAM)");
  if (!r) return r.error();
  return Rings{rp.rx_pending, rp.tx_pending, rp.rx_max_pending, rp.tx_max_pending};
}

Result<uint64_t> IoctlHostNic::udp4_hash(const std::string& nic) {
  struct ethtool_rxnfc nfc {};
  nfc.cmd = ETHTOOL_GRXFH;
  nfc.flow_type = UDP_V4_FLOW;
  auto r = ethtool_read(nic, &nfc, "reading the UDP/IPv4 RX hash fields (ETHTOOL_GRXFH)");
  if (!r) return r.error();
  return static_cast<uint64_t>(nfc.data);
}

namespace {
Result<std::map<std::string, std::string>> snapshot_file(const SysRoot& root, const std::string& nic) {
  if (!valid_ifname(nic)) return make_error(nic, "not a valid interface name", {}, EINVAL);
  auto text = root.read(kSnapshotHostEthtool + "/" + nic);
  if (!text) return make_error(nic, "no ethtool answers in the snapshot (" + text.error().text() + ")", {}, EOPNOTSUPP);
  std::map<std::string, std::string> kv;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream l(line);
    std::string k, v;
    if (l >> k) {
      l >> v;
      kv[k] = v;
    }
  }
  return kv;
}
}  // namespace

Result<Rings> SnapshotHostNic::rings(const std::string& nic) {
  auto kv = snapshot_file(root_, nic);
  if (!kv) return kv.error();
  Rings r;
  const std::pair<const char*, uint32_t*> keys[] = {{"rx", &r.rx}, {"tx", &r.tx}, {"rx_max", &r.rx_max}, {"tx_max", &r.tx_max}};
  for (const auto& [k, dst] : keys) {
    const auto it = kv->find(k);
    if (it == kv->end()) return make_error(nic, "reading ring sizes: not supported", {}, EOPNOTSUPP);
    const auto n = parse_number(it->second, 1u << 24);
    if (!n) return make_error(root_.display(kSnapshotHostEthtool + "/" + nic), std::string(k) + " is not a number");
    *dst = *n;
  }
  return r;
}

Result<uint64_t> SnapshotHostNic::udp4_hash(const std::string& nic) {
  auto kv = snapshot_file(root_, nic);
  if (!kv) return kv.error();
  const auto it = kv->find("udp4");
  if (it == kv->end()) return make_error(nic, "reading the UDP/IPv4 RX hash fields: not supported", {}, EOPNOTSUPP);
  return parse_rxh(it->second);
}

}  // namespace gn::advise
