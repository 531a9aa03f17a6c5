// Journal: the value each target had before the agent first touched it, kept in
// STATE_DIR/journal.json until `revert` restores it. Later applies never overwrite an entry.
#pragma once

#include <string>
#include <unordered_set>
#include <vector>

#include "plan.h"
#include "result.h"

namespace gn {

struct JournalEntry {
  std::string target;    // as in a plan Setting ("ethtool:eth0:channels", "sys/class/...")
  SettingKind kind = SettingKind::Sysctl;
  std::string nic;       // "" for sysctls
  std::string original;  // the text read before the first write (channels in their one text form)
};

class Journal {
 public:
  // Reads DIR/journal.json (an absent file is an empty journal). A file that does not parse
  // is an error naming it: it is never silently replaced.
  static Result<Journal> load(const std::string& dir);

  const std::string& path() const { return path_; }
  const std::vector<JournalEntry>& entries() const { return entries_; }
  bool has(const std::string& target) const;

  // Adds the entries whose target is not in the journal yet and saves (atomically) if any was
  // new. Existing entries are kept as they are: the first original wins.
  Result<void> record(const std::vector<JournalEntry>& entries);
  // Drops these targets and saves.
  Result<void> forget(const std::vector<std::string>& targets);

  static std::string to_json(const std::vector<JournalEntry>& entries);
  static Result<std::vector<JournalEntry>> from_json(const std::string& text);

 private:
  Result<void> save() const;
  std::string path_;
  std::vector<JournalEntry> entries_;
  std::unordered_set<std::string> targets_;  // index of entries_ by target
};

}  // namespace gn
