#include "reapply_scope.h"

#include <cerrno>
#include <nlohmann/json.hpp>

#include "durable_file.h"
#include "policy.h"

namespace gn {

namespace {
constexpr int kScopeFormat = 1;
constexpr size_t kMaxScopeBytes = 1u << 20;
constexpr size_t kMaxNics = 4096;

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& n : s) out += (out.empty() ? "" : ", ") + n;
  return out;
}
}  // namespace

void ReapplyScope::applied(const std::vector<std::string>& nics_applied) {
  if (nics_applied.empty()) {
    *this = ReapplyScope{};
    return;
  }
  for (const auto& n : nics_applied) {
    if (all) nics.erase(n);
    else nics.insert(n);
  }
  sysctls = true;  // every apply plans the global sysctls
}

void ReapplyScope::reverted(const std::vector<std::string>& nics_reverted) {
  if (nics_reverted.empty()) {
    *this = ReapplyScope{/*all=*/false, {}, /*sysctls=*/false};
    return;
  }
  for (const auto& n : nics_reverted) {
    if (all) nics.insert(n);
    else nics.erase(n);
  }
}

std::string ReapplyScope::describe() const {
  if (holds_everything()) return "nothing: held since `guest-nettune revert` (run `guest-nettune apply` to resume)";
  std::string s;
  if (all) s = nics.empty() ? "every NIC" : "every NIC but " + join(nics) + " (held by `guest-nettune revert --interface`)";
  else s = nics.empty() ? "no NIC" : "only " + join(nics) + " (applied since `guest-nettune revert`)";
  return s + (sysctls ? ", and the sysctls" : "; not the sysctls");
}

std::string ReapplyScope::to_json(const ReapplyScope& s) {
  return nlohmann::json{{"format", kScopeFormat},
                        {"all", s.all},
                        {"nics", std::vector<std::string>(s.nics.begin(), s.nics.end())},
                        {"sysctls", s.sysctls}}
             .dump(1) +
         "\n";
}

Result<ReapplyScope> ReapplyScope::parse(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return make_error("", "is not a JSON object");
  for (const auto& item : j.items()) {
    const std::string& k = item.key();
    if (k != "format" && k != "all" && k != "nics" && k != "sysctls") return make_error("", "unknown key '" + k + "'");
  }
  if (!j.contains("format") || !j["format"].is_number_integer() || j["format"].get<long long>() != kScopeFormat)
    return make_error("", "format is not " + std::to_string(kScopeFormat));
  if (!j.contains("all") || !j["all"].is_boolean()) return make_error("", "'all' is not true or false");
  if (!j.contains("sysctls") || !j["sysctls"].is_boolean()) return make_error("", "'sysctls' is not true or false");
  if (!j.contains("nics") || !j["nics"].is_array()) return make_error("", "'nics' is not a list");
  if (j["nics"].size() > kMaxNics) return make_error("", "'nics' lists more than " + std::to_string(kMaxNics) + " NICs");
  ReapplyScope s;
  s.all = j["all"].get<bool>();
  s.sysctls = j["sysctls"].get<bool>();
  for (const auto& n : j["nics"]) {
    if (!n.is_string()) return make_error("", "'nics' holds " + n.dump() + ", not a name");
    const std::string name = n.get<std::string>();
    if (auto r = validate_interface_name(name); !r) return make_error("", "'nics': " + r.error().message);
    s.nics.insert(name);
  }
  return s;
}

Result<ReapplyScope> ReapplyScope::load(const std::string& state_dir) {
  const std::string file = path(state_dir);
  remove_stale_temp_files(file);
  auto text = read_small_file(file, kMaxScopeBytes);
  if (!text) {
    if (text.error().code == ENOENT) return ReapplyScope{};
    return make_error(file, text.error().message, "run `guest-nettune apply` or `guest-nettune revert` to rewrite it");
  }
  auto s = parse(*text);
  if (!s)
    return make_error(file, s.error().message,
                      "automatic runs write nothing until `guest-nettune apply` (tune again) or `guest-nettune revert` "
                      "(stay untuned) rewrites it");
  return s;
}

Result<void> ReapplyScope::save(const std::string& state_dir) const {
  return write_file_atomically(path(state_dir), to_json(*this));
}

}  // namespace gn
