// A journal entry for a test, from the path its file spells, as the journal checks it on load.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "journal.h"

namespace gn {

// The original is the caller's as it is (an empty one where a test has no use for it).
inline JournalEntry journal_entry(std::string_view path, SettingKind kind, const std::string& nic,
                                  SharedText original, unsigned ifindex = 0) {
  auto e = JournalEntry::of(path, kind, nic, row(kind).type == ValueType::Channels ? "combined 1" : "0", ifindex);
  if (!e) throw std::invalid_argument("test journal entry: " + e.error().text());
  e->original = std::move(original);
  return std::move(*e);
}

// The target a journal path names (whichever kind's file it is, of the NIC it names): what the
// journal is asked of by path in a test.
inline Target target_at(std::string_view path) {
  std::string nic;
  for (const std::string_view prefix : {"sys/class/net/", "ethtool:"})
    if (path.substr(0, prefix.size()) == prefix) {
      const std::string_view rest = path.substr(prefix.size());
      nic = std::string(rest.substr(0, rest.find_first_of("/:")));
    }
  for (const auto& k : kKinds)
    for (const std::string& n : {nic, std::string()})
      if (auto e = JournalEntry::of(path, k.kind, n, k.type == ValueType::Channels ? "combined 1" : "0"))
        return std::move(*e);
  throw std::invalid_argument("no target is at " + std::string(path));
}

}  // namespace gn
