// make-fixture NAME DIR: writes one of the named test snapshots (tests/support/fixture.cpp).
#include <iostream>

#include "fixture.h"

int main(int argc, char** argv) {
  const auto fixtures = gn::test::named_fixtures();
  if (argc != 3 || fixtures.count(argv[1]) == 0) {
    std::cerr << "usage: make-fixture NAME DIR\nnames:";
    for (const auto& [name, f] : fixtures) std::cerr << " " << name;
    std::cerr << "\n";
    return 2;
  }
  fixtures.at(argv[1]).write(argv[2]);
  return 0;
}
