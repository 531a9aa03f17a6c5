// Facts: everything the probe learned about the system, read only once per run.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalogue.h"
#include "channels.h"
#include "cpuset.h"
#include "kernel_release.h"
#include "shared.h"
#include "softnet.h"

namespace gn {

// One kernel file as read: its text, or why it could not be read. (Its path is its target's:
// catalogue.h.) Files that hold the same text share one copy of it: a guest's masks repeat (an
// untuned guest's are all alike, a tuned one's repeat queue for queue on every NIC), and a mask
// of 1024 CPUs is 288 characters.
struct SysFile {
  Shared<std::string> text;  // trimmed; none when absent or unreadable
  int error = 0;             // errno of the failed read (ENOENT when absent)
  bool readable() const { return static_cast<bool>(text); }
};

struct CpuFacts {
  unsigned nr_cpu_ids = 0;  // one past the highest possible CPU: the width of every mask
  CpuSet possible, present, online, isolated, nohz_full;
  std::vector<CpuSet> cores;  // SMT sibling groups of online CPUs, ordered by first CPU
  std::vector<CpuSet> nodes;  // online CPUs of each NUMA node, index = node id (may be empty)
  // Online CPUs that are not isolated: the only ones that may appear in a mask.
  CpuSet usable() const { return online - (isolated | nohz_full); }
};

// A queue directory (queues/tx-N or rx-N) and the files in it that the plan needs: one per
// catalogue kind of its place (RxQueue, TxQueue) that the profile plans.
struct Queue {
  unsigned index = 0;
  std::vector<std::pair<SettingKind, SysFile>> files;
  // The file of that kind; nullptr when the probe did not read it.
  const SysFile* file(SettingKind k) const {
    for (const auto& [kind, f] : files)
      if (kind == k) return &f;
    return nullptr;
  }
};
using TxQueue = Queue;
using RxQueue = Queue;

enum class IrqRole { Input, Output, Shared, Legacy };
const char* to_string(IrqRole r);

struct QueueIrq {
  unsigned irq = 0;
  std::string name;  // as in /proc/interrupts
  IrqRole role = IrqRole::Input;
  int queue = -1;    // for Input/Output
  SysFile smp_affinity;
};

enum class NicRole {
  Tunable,  // a device with queues of its own (virtio_net, or a driver named with --driver)
  Upper,    // bond, bridge, team, vlan, macvlan: its lower devices are tuned instead
  Other,    // left alone: another driver, loopback, a virtual device
};
const char* to_string(NicRole r);

struct Nic {
  std::string name;
  std::string driver;       // "virtio_net", "veth", ... ("" for virtual devices without one)
  std::string kind;         // for upper devices: bond, bridge, team, vlan, macvlan, ...
  NicRole role = NicRole::Other;
  std::string why;          // why this role
  std::string device_path;  // the netdev's canonical sysfs directory
  std::string virtio_device;  // "virtio2" for virtio_net NICs
  std::vector<std::string> lowers;  // upper devices: the devices below
  std::optional<Channels> channels;
  std::string channels_error;  // why channels are unknown
  std::vector<TxQueue> tx;
  std::vector<RxQueue> rx;
  std::vector<QueueIrq> irqs;
};

struct Sysctl {
  std::string name;  // "net.core.netdev_budget"
  SysFile file;
  const SysctlRow* row = nullptr;
};

struct Facts {
  KernelRelease kernel;
  DriverBehaviour behaviour = DriverBehaviour::DriverStripes;
  std::string behaviour_evidence;
  CpuFacts cpus;
  std::vector<Nic> nics;  // sorted by name
  std::vector<Sysctl> sysctls;
  bool irqbalance_running = false;
  unsigned softnet_columns = 0;  // 0 when unreadable
  // Per-CPU softnet counters, rows mapped to CPU numbers (by the cpu column from 5.10, else in
  // online order).
  std::vector<std::pair<unsigned, SoftnetRow>> softnet;
  // CPU vulnerabilities reported as mitigated (name → the kernel's text).
  std::vector<std::pair<std::string, std::string>> mitigations;

  const Nic* find_nic(const std::string& name) const;
  const Sysctl* find_sysctl(const std::string& name) const;
};

}  // namespace gn
