// Probing and planning a fixture snapshot, for the plan and apply tests.
#pragma once

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

}  // namespace gn::test
