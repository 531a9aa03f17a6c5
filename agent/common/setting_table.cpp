#include "setting_table.h"

#include <algorithm>
#include <iomanip>

namespace gn {

namespace {
std::string shorten(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 1) + "~"; }
}  // namespace

void render_setting_rows(std::ostream& out, const std::string& first_heading, const std::vector<SettingRow>& rows) {
  size_t tw = 6;
  for (const auto& r : rows) tw = std::max(tw, r.target.size());
  tw = std::min<size_t>(tw, 56);
  const int target_col = static_cast<int>(tw + 2);
  out << std::left << std::setw(7) << first_heading << std::setw(target_col) << "TARGET" << std::setw(20) << "CURRENT"
      << std::setw(20) << "DESIRED" << "REASON\n";
  for (const auto& r : rows)
    out << std::setw(7) << r.label << std::setw(target_col) << shorten(r.target, tw) << std::setw(20)
        << shorten(r.current, 19) << std::setw(20) << shorten(r.desired, 19) << r.reason << "\n";
}

}  // namespace gn
