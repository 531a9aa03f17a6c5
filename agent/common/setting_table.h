// The settings table people read, shared by the agent's plan/status tables and by
// guest-nettune-host's per-guest table, so that both have the same headings and column sizes.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace gn {

struct SettingRow {
  std::string label;    // the state (status) or the action (plan)
  std::string target;   // as displayed ("eth0 channels", "/sys/class/net/...")
  std::string current;  // as displayed (masks as CPU lists, "-" for nothing)
  std::string desired;
  std::string reason;
};

// Headings "STATE|ACTION  TARGET  CURRENT  DESIRED  REASON"; the target column is as wide as the
// longest target (6 to 56), values 19 wide, longer text shortened with '~'.
void render_setting_rows(std::ostream& out, const std::string& first_heading, const std::vector<SettingRow>& rows);

}  // namespace gn
