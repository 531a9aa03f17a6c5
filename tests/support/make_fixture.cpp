// make-fixture NAME DIR: writes one of the named test snapshots (tests/support/fixture.cpp), or
// a wide guest for benchmarks: wide-CPUS-NICS-QUEUES (two NUMA nodes, SMT pairs, NICS virtio
// NICs with QUEUES queue pairs each, every mask empty).
#include <cstdio>
#include <iostream>

#include "fixture.h"

namespace {

gn::test::Fixture wide(unsigned cpus, unsigned nics, unsigned queues) {
  gn::test::Fixture f;
  f.possible = cpus;
  const unsigned half = cpus / 2;
  f.nodes = {"0-" + std::to_string(half - 1), std::to_string(half) + "-" + std::to_string(cpus - 1)};
  for (unsigned c = 0; c + 1 < cpus; c += 2) f.smt.push_back(std::to_string(c) + "," + std::to_string(c + 1));
  for (unsigned n = 0; n < nics; ++n) {
    gn::test::FixtureNic nic;
    nic.name = "eth" + std::to_string(n);
    nic.virtio_index = n;
    nic.max_queues = queues;
    nic.queues = queues;
    nic.xps = gn::test::XpsState::Empty;
    f.nics.push_back(nic);
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const auto fixtures = gn::test::named_fixtures();
  unsigned cpus = 0, nics = 0, queues = 0;
  char tail = 0;
  const bool is_wide = argc == 3 && std::sscanf(argv[1], "wide-%u-%u-%u%c", &cpus, &nics, &queues, &tail) == 3 &&
                       cpus >= 2 && cpus % 2 == 0 && nics >= 1 && nics <= 64 && queues >= 1 && queues <= 1024;
  if (argc != 3 || (!is_wide && fixtures.count(argv[1]) == 0)) {
    std::cerr << "usage: make-fixture NAME DIR\nnames:";
    for (const auto& [name, f] : fixtures) std::cerr << " " << name;
    std::cerr << " wide-CPUS-NICS-QUEUES\n";
    return 2;
  }
  (is_wide ? wide(cpus, nics, queues) : fixtures.at(argv[1])).write(argv[2]);
  return 0;
}
