// make-host-tree NAME DIR: writes one of the named host snapshot trees (tests/advise/host_tree.cpp).
#include <iostream>

#include "host_tree.h"

int main(int argc, char** argv) {
  const auto& trees = gn::test::named_host_trees();
  if (argc != 3 || !trees.count(argv[1])) {
    std::cerr << "usage: make-host-tree NAME DIR; names:";
    for (const auto& [n, t] : trees) std::cerr << " " << n;
    std::cerr << "\n";
    return 2;
  }
  gn::test::write_host_tree(trees.at(argv[1]), argv[2]);
  return 0;
}
