#include "policy.h"

namespace gn {

const char* to_string(RpsMode m) {
  switch (m) {
    case RpsMode::Auto: return "auto";
    case RpsMode::On: return "on";
    case RpsMode::Off: return "off";
  }
  return "?";
}

std::optional<RpsMode> rps_mode_from_string(std::string_view s) {
  for (auto m : {RpsMode::Auto, RpsMode::On, RpsMode::Off})
    if (s == to_string(m)) return m;
  return std::nullopt;
}

Result<void> validate_interface_name(const std::string& name) {
  const auto bad = [&](const std::string& why) {
    return make_error("interface '" + name + "'", why, "give the name as `ip link` shows it");
  };
  if (name.empty()) return bad("empty name");
  if (name.size() > 15) return bad("longer than 15 bytes");
  if (name == "." || name == ".." || name.find("..") != std::string::npos) return bad("contains '..'");
  for (char c : name) {
    if (c == '/') return bad("contains '/'");
    if (c == ':') return bad("contains ':'");
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return bad("contains white space");
  }
  return {};
}

}  // namespace gn
