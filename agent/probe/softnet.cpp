#include "softnet.h"

#include <charconv>
#include <sstream>
#include <string>

#include "cpuset.h"

namespace gn {

Result<SoftnetStat> parse_softnet_stat(std::string_view text) {
  SoftnetStat s;
  std::istringstream lines{std::string(text)};
  std::string line;
  unsigned line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    std::istringstream words(line);
    std::vector<uint64_t> cols;
    std::string w;
    while (words >> w) {
      uint64_t v = 0;
      const auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), v, 16);
      if (ec != std::errc() || p != w.data() + w.size())
        return make_error("", "line " + std::to_string(line_no) + ": '" + w + "' is not hexadecimal");
      cols.push_back(v);
    }
    if (cols.size() < 10)
      return make_error("", "line " + std::to_string(line_no) + " has " + std::to_string(cols.size()) +
                                " columns; expected 10, 11, 13 or 15");
    if (s.columns == 0) s.columns = static_cast<unsigned>(cols.size());
    if (cols.size() != s.columns)
      return make_error("", "line " + std::to_string(line_no) + " has " + std::to_string(cols.size()) +
                                " columns, the first line " + std::to_string(s.columns));
    SoftnetRow r;
    r.processed = cols[0];
    r.dropped = cols[1];
    r.time_squeeze = cols[2];
    r.received_rps = cols[9];
    if (cols.size() >= 11) r.flow_limit = cols[10];
    if (cols.size() >= 13) {
      if (cols[12] >= (1u << 20))  // as far as CPU lists go
        return make_error("", "line " + std::to_string(line_no) + ": cpu id " + std::to_string(cols[12]) +
                                  " is out of range");
      r.cpu = static_cast<unsigned>(cols[12]);
    }
    s.rows.push_back(r);
  }
  return s;
}

}  // namespace gn
