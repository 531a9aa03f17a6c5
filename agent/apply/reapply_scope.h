// What automatic runs may tune: STATE_DIR/reapply.json.
//
// The boot unit and the udev rules run `guest-nettune apply --automatic`. Such a run re-applies
// only what an explicit apply asked for and no revert has taken back:
//   - no file (a fresh install): every NIC the config selects, and the sysctls;
//   - `guest-nettune apply` (explicit, every NIC): the same, and it clears every hold;
//   - `guest-nettune apply --interface X`: X (an upper device: its lower devices) is wanted again;
//   - `guest-nettune revert` (every NIC, also run by the package on removal): nothing, until the
//     next explicit apply (the hold survives reboots; purging the package removes it);
//   - `guest-nettune revert --interface X`: X is held, the rest unchanged.
// The file is written before the run changes anything (a revert killed half way is still held)
// and validated when read; a broken file stops automatic runs (nothing written) until an
// explicit apply or revert rewrites it.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "result.h"

namespace gn {

struct ReapplyScope {
  // all: every NIC except `nics` (held one by one); otherwise: only `nics` (applied one by one
  // since a full revert).
  bool all = true;
  std::set<std::string> nics;
  bool sysctls = true;

  bool allows_nic(const std::string& nic) const { return all ? nics.count(nic) == 0 : nics.count(nic) > 0; }
  bool holds_everything() const { return !all && nics.empty() && !sysctls; }
  bool operator==(const ReapplyScope& o) const { return all == o.all && nics == o.nics && sysctls == o.sysctls; }

  // An explicit apply of these NICs (empty: every NIC).
  void applied(const std::vector<std::string>& nics_applied);
  // A revert of these NICs (empty: every NIC and the sysctls).
  void reverted(const std::vector<std::string>& nics_reverted);
  // In words, for logs and status: "everything", "nothing (held since `guest-nettune revert`)", ...
  std::string describe() const;

  static std::string path(const std::string& state_dir) { return state_dir + "/reapply.json"; }
  // An absent file is the default scope (everything).
  static Result<ReapplyScope> load(const std::string& state_dir);
  Result<void> save(const std::string& state_dir) const;

  static std::string to_json(const ReapplyScope& s);
  static Result<ReapplyScope> parse(const std::string& text);
};

}  // namespace gn
