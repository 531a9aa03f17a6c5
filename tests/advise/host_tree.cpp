#include "host_tree.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "cpuset.h"

namespace gn::test {

namespace {
namespace fs = std::filesystem;

void put(const std::string& dir, const std::string& rel, const std::string& text) {
  const fs::path p = fs::path(dir) / rel;
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}
void link(const std::string& dir, const std::string& rel, const std::string& target) {
  const fs::path p = fs::path(dir) / rel;
  fs::create_directories(p.parent_path());
  fs::create_symlink(target, p);
}
}  // namespace

HostSpec guide_host() {
  HostSpec h;
  h.files = {
      {"proc/sys/net/bridge/bridge-nf-call-iptables", "0\n"},
      {"proc/sys/net/bridge/bridge-nf-call-ip6tables", "0\n"},
      {"proc/sys/net/bridge/bridge-nf-call-arptables", "0\n"},
      {"proc/sys/net/core/netdev_max_backlog", "100000\n"},
      {"proc/sys/net/core/netdev_budget", "50000\n"},
      {"proc/sys/net/core/netdev_budget_usecs", "5000\n"},
      {"proc/sys/net/core/dev_weight", "6000\n"},
      {"sys/module/vhost_net/parameters/experimental_zcopytx", "1\n"},
      {"sys/module/kvm_intel/parameters/ept", "Y\n"},
  };
  return h;
}

HostSpec untuned_host() {
  HostSpec h = guide_host();
  h.kernel = "3.10.0-1160.el7.x86_64";
  h.rings = "rx 4096\nrx_max 4096\ntx 4096\ntx_max 4096\n";
  h.udp4 = "sd";
  h.files["proc/sys/net/bridge/bridge-nf-call-iptables"] = "1\n";
  h.files["proc/sys/net/bridge/bridge-nf-call-ip6tables"] = "1\n";
  h.files["proc/sys/net/bridge/bridge-nf-call-arptables"] = "1\n";
  h.files["proc/sys/net/core/netdev_max_backlog"] = "1000\n";
  h.files["proc/sys/net/core/netdev_budget"] = "300\n";
  h.files["proc/sys/net/core/netdev_budget_usecs"] = "2000\n";
  h.files["proc/sys/net/core/dev_weight"] = "64\n";
  h.files["sys/module/vhost_net/parameters/experimental_zcopytx"] = "0\n";
  h.files["sys/module/kvm_intel/parameters/ept"] = "N\n";
  h.files["proc/4242/comm"] = "irqbalance\n";
  h.files["sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"] = "powersave\n";
  h.files["sys/module/intel_idle/parameters/max_cstate"] = "9\n";
  h.files["sys/devices/system/cpu/vulnerabilities/spectre_v2"] = "Mitigation: Retpolines\n";
  h.files["sys/devices/system/cpu/vulnerabilities/meltdown"] = "Mitigation: PTI\n";
  h.files["proc/net/softnet_stat"] =
      "0000a000 00000002 00000010 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n";
  return h;
}

void write_host_tree(const HostSpec& h, const std::string& dir) {
  const unsigned per_socket_threads = h.cores_per_socket;
  const unsigned cores = h.sockets * h.cores_per_socket;
  const unsigned threads = h.smt ? 2 * cores : cores;
  put(dir, "sys/devices/system/cpu/online", "0-" + std::to_string(threads - 1) + "\n");
  put(dir, "sys/devices/system/cpu/smt/active", h.smt ? "1\n" : "0\n");
  put(dir, "sys/devices/system/cpu/smt/control", h.smt ? "on\n" : "off\n");
  std::map<unsigned, CpuSet> nodes;
  for (unsigned t = 0; t < threads; ++t) {
    // Linux's numbering on such hosts: first threads 0..cores-1 by socket, siblings after.
    const unsigned core_index = t % cores;
    const unsigned socket = core_index / per_socket_threads;
    const unsigned core = core_index % per_socket_threads;
    const std::string topo = "sys/devices/system/cpu/cpu" + std::to_string(t) + "/topology/";
    put(dir, topo + "physical_package_id", std::to_string(socket) + "\n");
    put(dir, topo + "core_id", std::to_string(core) + "\n");
    put(dir, topo + "thread_siblings_list",
        h.smt ? std::to_string(core_index) + "," + std::to_string(core_index + cores) + "\n" : std::to_string(t) + "\n");
    const unsigned node = h.nodes_per_socket == 0
                              ? 0
                              : socket * h.nodes_per_socket + core / (per_socket_threads / h.nodes_per_socket);
    nodes[node].add(t);
  }
  for (const auto& [n, set] : nodes)
    put(dir, "sys/devices/system/node/node" + std::to_string(n) + "/cpulist", format_cpulist(set) + "\n");
  put(dir, "proc/sys/kernel/osrelease", h.kernel + "\n");
  put(dir, "proc/cmdline", h.cmdline + "\n");
  put(dir, "proc/cpuinfo", "processor\t: 0\nvendor_id\t: " + h.vendor + "\n");
  put(dir, "proc/1/comm", "systemd\n");
  put(dir, "proc/net/softnet_stat",
      "0000a000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n");
  // The physical NIC, the bridge over it, the guests' taps on the bridge.
  const std::string pci = "sys/devices/pci0000:00/0000:00:03.0";
  put(dir, pci + "/numa_node", std::to_string(h.nic_node) + "\n");
  put(dir, pci + "/net/" + h.nic + "/address", "00:11:22:33:44:55\n");
  link(dir, "sys/class/net/" + h.nic, "../../devices/pci0000:00/0000:00:03.0/net/" + h.nic);
  link(dir, pci + "/net/" + h.nic + "/device", "../../../0000:00:03.0");
  const std::string br = "sys/devices/virtual/net/" + h.bridge;
  put(dir, br + "/bridge/forward_delay", "0\n");
  link(dir, "sys/class/net/" + h.bridge, "../../devices/virtual/net/" + h.bridge);
  put(dir, br + "/brif/" + h.nic + "/port_no", "0x1\n");
  for (unsigned i = 0; i < h.guest_taps; ++i) {
    const std::string tap = "vnet" + std::to_string(i);
    put(dir, "sys/devices/virtual/net/" + tap + "/tun_flags", "0x5002\n");
    link(dir, "sys/class/net/" + tap, "../../devices/virtual/net/" + tap);
    put(dir, br + "/brif/" + tap + "/port_no", "0x" + std::to_string(i + 2) + "\n");
  }
  put(dir, "guest-nettune-snapshot/host-ethtool/" + h.nic, h.rings + "udp4 " + h.udp4 + "\n");
  put(dir, "guest-nettune-snapshot/FORMAT", "guest-nettune snapshot 1\n");
  put(dir, "sys/module/vhost_net/refcnt", "0\n");
  for (const auto& [rel, text] : h.files) put(dir, rel, text);
}

const std::map<std::string, HostSpec>& named_host_trees() {
  static const std::map<std::string, HostSpec> trees = [] {
    std::map<std::string, HostSpec> t;
    t["guide-2x10-smt"] = guide_host();
    t["untuned-2x10-smt"] = untuned_host();
    HostSpec one = guide_host();
    one.sockets = 1;
    one.cores_per_socket = 8;
    one.smt = false;
    one.nodes_per_socket = 0;
    t["one-node-8-nosmt"] = one;
    // AMD, NPS4 (4 nodes per socket), AVIC on: the guide's AMD host.
    HostSpec amd = guide_host();
    amd.vendor = "AuthenticAMD";
    amd.cores_per_socket = 16;
    amd.nodes_per_socket = 4;
    amd.files.erase("sys/module/kvm_intel/parameters/ept");
    amd.files["sys/module/kvm_amd/parameters/avic"] = "1\n";
    t["amd-nps4-2x16-smt"] = amd;
    // AMD as shipped: NPS1, AVIC off.
    HostSpec amd1 = amd;
    amd1.nodes_per_socket = 1;
    amd1.files["sys/module/kvm_amd/parameters/avic"] = "0\n";
    t["amd-nps1-2x16-smt"] = amd1;
    return t;
  }();
  return trees;
}

}  // namespace gn::test
