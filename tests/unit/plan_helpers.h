// Probing and planning a fixture snapshot, for the plan and apply tests.
#pragma once

#include <map>
#include <string>

#include "ethtool.h"
#include "facts.h"
#include "plan.h"
#include "policy.h"
#include "probe.h"
#include "sysroot.h"

namespace gn::test {

inline Facts probe_snapshot(const std::string& dir, const Policy& policy = {}) {
  SysRoot root(dir);
  SnapshotEthtool eth(root);
  auto f = probe(root, eth, ProbeOptions{policy.drivers});
  if (!f) throw std::runtime_error(f.error().text());
  return *f;
}

// Every file the probe read (queue files, IRQ affinities, sysctls), by its target's path.
inline std::map<std::string, const SysFile*> files_read(const Facts& f) {
  std::map<std::string, const SysFile*> files;
  for (const auto& n : f.nics) {
    for (const auto* queues : {&n.tx, &n.rx})
      for (const auto& q : *queues)
        for (const auto& [kind, file] : q.files) files[Target{kind, n.name, static_cast<int>(q.index), 0, nullptr}.path()] = &file;
    for (const auto& irq : n.irqs)
      files[Target{SettingKind::IrqAffinity, n.name, irq.queue, irq.irq, nullptr}.path()] = &irq.smp_affinity;
  }
  for (const auto& s : f.sysctls) files[Target{SettingKind::Sysctl, "", -1, 0, s.row}.path()] = &s.file;
  return files;
}

}  // namespace gn::test
