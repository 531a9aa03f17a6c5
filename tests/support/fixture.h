// Builds snapshot trees (the layout `guest-nettune capture` writes, docs/snapshot-format.md)
// from a short description, for golden and unit tests.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace gn::test {

enum class XpsState { Empty, Striped, OneToOne };
enum class IrqStyle { PerQueue, Shared, Legacy, None };

struct FixtureNic {
  std::string name;
  std::string driver = "virtio_net";  // a bus driver link for virtio_net/e1000; ethtool file otherwise
  unsigned virtio_index = 0;          // virtioN
  bool combined = true;               // combined channels (virtio) or rx/tx (veth)
  unsigned max_queues = 1;
  unsigned queues = 1;
  XpsState xps = XpsState::Empty;
  IrqStyle irqs = IrqStyle::PerQueue;
  std::string upper_kind;              // bond, vlan, bridge: an upper device
  std::vector<std::string> lowers;
};

struct Fixture {
  std::string release = "6.1.0-28-cloud-amd64";
  unsigned possible = 4;             // CPUs 0..possible-1
  std::string online;                // cpulist; default all possible
  std::string isolated;              // cpulist
  std::string nohz_full;             // cpulist; "" writes "(null)"
  std::vector<std::string> smt;      // sibling lists; default one CPU per core
  std::vector<std::string> nodes;    // cpulists; default one node
  bool xps_rxqs = true;              // the >= 4.19 feature file
  unsigned softnet_columns = 13;
  std::vector<FixtureNic> nics;
  std::map<std::string, std::string> sysctls = {
      {"busy_poll", "0"},        {"busy_read", "0"},           {"dev_weight", "64"},
      {"netdev_budget", "300"},  {"netdev_budget_usecs", "2000"}, {"netdev_max_backlog", "1000"},
      {"rps_sock_flow_entries", "0"}};
  bool irqbalance = false;
  std::vector<std::string> mitigations;  // vulnerabilities reported as "Mitigation: ..."

  // Writes the tree into dir (created).
  void write(const std::string& dir) const;
};

// The named fixtures the golden tests plan (and `make-fixture NAME DIR` writes).
std::map<std::string, Fixture> named_fixtures();

}  // namespace gn::test
