#include "checks.h"

#include <netinet/in.h>
#include <sys/socket.h>
// After netinet/in.h, so that the kernel headers take the C library's address types.
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netlink.h>

#include <map>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "cpuset.h"

namespace gn {

const char* to_string(Severity s) { return s == Severity::Warning ? "warning" : "info"; }

namespace {

// Legacy iptables: entries per table through IPT_SO_GET_INFO.
void count_legacy(const SysRoot& root, RuleCounts& rc) {
  auto names = root.read(paths::kIptablesNames);
  if (!names) return;
  const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  if (fd < 0) return;
  std::istringstream in(*names);
  std::string table;
  while (in >> table) {
    struct ipt_getinfo info {};
    std::strncpy(info.name, table.c_str(), sizeof info.name - 1);
    socklen_t len = sizeof info;
    if (::getsockopt(fd, SOL_IP, IPT_SO_GET_INFO, &info, &len) == 0 && info.num_entries > 0)
      rc.tables.emplace_back("iptables-legacy " + table, info.num_entries);
  }
  ::close(fd);
}

// nftables (and iptables-nft, Debian's default since 10): a NFT_MSG_GETRULE dump over
// netlink, counted per table.
bool count_nftables(RuleCounts& rc, std::string& why_not) {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) {
    why_not = std::string("netlink: ") + std::strerror(errno);
    return false;
  }
  struct {
    struct nlmsghdr nh;
    struct nfgenmsg nf;
  } req{};
  req.nh.nlmsg_len = sizeof req;
  req.nh.nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE);
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nh.nlmsg_seq = 1;
  req.nf.nfgen_family = AF_UNSPEC;
  req.nf.version = NFNETLINK_V0;
  if (::send(fd, &req, sizeof req, 0) < 0) {
    why_not = std::string("netlink: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  std::map<std::string, unsigned> per_table;
  std::vector<char> buf(1 << 16);
  bool done = false, ok = true;
  while (!done) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) {
      ok = false;
      why_not = std::string("netlink: ") + (n < 0 ? std::strerror(errno) : "closed");
      break;
    }
    size_t left = static_cast<size_t>(n);
    for (auto* nh = reinterpret_cast<struct nlmsghdr*>(buf.data()); NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
      if (nh->nlmsg_type == NLMSG_DONE) {
        done = true;
        break;
      }
      if (nh->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const struct nlmsgerr*>(NLMSG_DATA(nh));
        if (e->error != 0) {
          ok = false;
          why_not = std::string("nftables: ") + std::strerror(-e->error);
        }
        done = true;
        break;
      }
      if ((nh->nlmsg_type & 0xff) != NFT_MSG_NEWRULE) continue;
      // The rule's table: the NFTA_RULE_TABLE attribute after the nfgenmsg header.
      std::string table = "?";
      const size_t hdr = NLMSG_LENGTH(sizeof(struct nfgenmsg));
      size_t off = NLMSG_ALIGN(hdr);
      while (off + sizeof(struct nlattr) <= nh->nlmsg_len) {
        const auto* a = reinterpret_cast<const struct nlattr*>(reinterpret_cast<const char*>(nh) + off);
        if (a->nla_len < sizeof(struct nlattr) || off + a->nla_len > nh->nlmsg_len) break;
        if ((a->nla_type & NLA_TYPE_MASK) == NFTA_RULE_TABLE) {
          const char* p = reinterpret_cast<const char*>(a) + NLA_HDRLEN;
          table = std::string(p, strnlen(p, a->nla_len - NLA_HDRLEN));
          break;
        }
        off += NLA_ALIGN(a->nla_len);
      }
      ++per_table[table];
    }
  }
  ::close(fd);
  for (const auto& [t, count] : per_table) rc.tables.emplace_back("nftables " + t, count);
  return ok;
}

}  // namespace

RuleCounts count_iptables_rules(const SysRoot& root) {
  RuleCounts rc;
  if (root.is_snapshot()) {
    rc.unavailable = "rule counts are not in snapshots";
    return rc;
  }
  count_legacy(root, rc);
  std::string why;
  if (!count_nftables(rc, why)) rc.unavailable = why;
  return rc;
}

std::vector<Finding> run_checks(const Facts& facts, const Plan& plan, const std::vector<std::string>& nics,
                                EthtoolIo& ethtool, const RuleCounts& rules, const std::optional<LoadSample>& load) {
  std::vector<Finding> out;
  const unsigned ncpu = facts.cpus.usable().count();
  for (const auto& name : nics) {
    const Nic* n = facts.find_nic(name);
    if (n == nullptr || n->role != NicRole::Tunable) continue;
    if (n->channels) {
      const Channels& c = *n->channels;
      const unsigned max = c.combined_kind() ? c.max_combined : c.max_tx;
      if (max < ncpu)
        out.push_back({"host-queues", Severity::Warning, name,
                       "the host offers " + std::to_string(max) + " queue pair(s) for " + std::to_string(ncpu) +
                           " usable vCPUs",
                       "on the host, give this NIC as many queues as vCPUs (QEMU: -netdev tap,queues=" +
                           std::to_string(ncpu) + " with virtio-net-pci,mq=on; libvirt: <driver name='vhost' queues='" +
                           std::to_string(ncpu) + "'/>)"});
    }
    if (auto off = ethtool.tx_offloads(name)) {
      if (!off->tx_checksum || !off->scatter_gather || !off->tso) {
        std::string ev = "transmit offloads off:";
        if (!off->tx_checksum) ev += " tx-checksumming";
        if (!off->scatter_gather) ev += " scatter-gather";
        if (!off->tso) ev += " tcp-segmentation-offload";
        out.push_back({"tx-offloads", Severity::Warning, name, ev,
                       "turn them on (ethtool -K " + name + " tx on sg on tso on) and check that the host's "
                       "virtio-net offers csum and guest/host TSO"});
      }
    }
  }
  if (facts.irqbalance_running) {
    unsigned planned = 0;
    for (const auto& s : plan.settings)
      planned += s.kind == SettingKind::IrqAffinity && s.reason.view().find("irqbalance") != std::string_view::npos;
    if (planned > 0)
      out.push_back({"irqbalance", Severity::Warning, "",
                     "irqbalance runs and moves the " + std::to_string(planned) + " queue IRQs every 10 s",
                     "ban these IRQs in irqbalance (IRQBALANCE_ARGS=--banirq=N for each) or stop it, so that "
                     "each queue's IRQ stays on its XPS block"});
  }
  if (facts.behaviour == DriverBehaviour::DriverSelectsQueue)
    out.push_back({"driver-ignores-xps", Severity::Info, "", facts.behaviour_evidence,
                   "XPS cannot steer transmits on this kernel; RHEL 7.9 (3.10.0-1160) or later honours it"});
  unsigned total_rules = 0;
  std::string per_table;
  for (const auto& [t, n] : rules.tables) {
    total_rules += n;
    per_table += (per_table.empty() ? "" : ", ") + t + " " + std::to_string(n);
  }
  const bool busy = load && load->peak_pps >= 100e3;
  if (total_rules >= 1000)
    out.push_back({"filter-rules", busy ? Severity::Warning : Severity::Info, "",
                   std::to_string(total_rules) + " packet filter rules (" + per_table + ")" +
                       (load ? ", at " + std::to_string(static_cast<long long>(load->peak_pps)) + " pps" : ""),
                   "every packet walks these chains: use ipset or nftables sets, or filter before the guest"});
  if (!facts.mitigations.empty()) {
    std::string names;
    for (const auto& [n, text] : facts.mitigations) names += (names.empty() ? "" : ", ") + n;
    out.push_back({"mitigations", Severity::Info, "",
                   "CPU vulnerability mitigations on: " + names,
                   "they cost packet rate (the source measured a loss on CentOS 7.6); turning them off "
                   "(mitigations=off) is only for trusted single-tenant guests"});
  }
  return out;
}

nlohmann::json findings_json(const std::vector<Finding>& findings) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& f : findings)
    a.push_back({{"id", f.id}, {"severity", to_string(f.severity)}, {"nic", f.nic}, {"evidence", f.evidence},
                 {"what_to_do", f.what_to_do}});
  return a;
}

void render_findings(std::ostream& out, const std::vector<Finding>& findings) {
  if (findings.empty()) {
    out << "no findings\n";
    return;
  }
  for (const auto& f : findings) {
    out << to_string(f.severity) << " " << f.id << (f.nic.empty() ? "" : " (" + f.nic + ")") << ": " << f.evidence
        << "\n    what to do: " << f.what_to_do << "\n";
  }
}

}  // namespace gn
