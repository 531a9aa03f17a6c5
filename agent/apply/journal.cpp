#include "journal.h"

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>

#include "cpuset.h"
#include "durable_file.h"
#include "json_out.h"
#include "kernel_paths.h"
#include "policy.h"

namespace gn {

namespace {
constexpr int kJournalFormat = 2;  // 1: before boot ids and ifindexes (0.1.0)
constexpr size_t kMaxJournalBytes = 16u << 20;
constexpr size_t kMaxEntries = 100000;
constexpr size_t kMaxOriginal = 4096;  // a mask of 8192 CPUs is about 2300 characters

bool all_digits(const std::string& s, size_t max_len) {
  return !s.empty() && s.size() <= max_len && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_uuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  }
  return true;
}

// "PREFIX<digits>SUFFIX" with at most max_len digits.
bool matches_numbered(const std::string& s, const std::string& prefix, const std::string& suffix, size_t max_len) {
  if (s.size() <= prefix.size() + suffix.size() || s.compare(0, prefix.size(), prefix) != 0 ||
      s.compare(s.size() - suffix.size(), suffix.size(), suffix) != 0)
    return false;
  return all_digits(s.substr(prefix.size(), s.size() - prefix.size() - suffix.size()), max_len);
}

// Whether the target is a file (or channel count) the agent itself writes for this kind and NIC:
// the journal must never make revert write anything else. Where each kind lives is its
// catalogue row (catalogue.h).
Result<void> check_target(const JournalEntry& e) {
  const auto bad = [&](const std::string& why) { return make_error("", "target '" + e.target + "' " + why); };
  const KindRow& k = row(e.kind);
  if (k.place == Place::Sysctl) {
    if (!e.nic.empty()) return bad("is a sysctl but names NIC '" + e.nic + "'");
    for (const auto& r : kSysctls)
      if (e.target == paths::kNetCoreSysctl + "/" + r.name) return {};
    return bad("is not a sysctl guest-nettune writes");
  }
  if (e.nic.empty()) return bad("needs the NIC it belongs to");
  if (auto r = validate_interface_name(e.nic); !r) return make_error("", "nic: " + r.error().message);
  const std::string queues = paths::kNetClass + "/" + e.nic + "/queues/";
  const std::string file = std::string("/") + k.file;
  bool ok = false;
  switch (k.place) {
    case Place::Ethtool: ok = e.target == "ethtool:" + e.nic + ":channels"; break;
    case Place::RxQueue: ok = matches_numbered(e.target, queues + "rx-", file, 5); break;
    case Place::TxQueue: ok = matches_numbered(e.target, queues + "tx-", file, 5); break;
    case Place::Irq: ok = matches_numbered(e.target, paths::kIrqDir + "/", file, 7); break;
    case Place::Sysctl: break;
  }
  return ok ? Result<void>{} : bad("is not a " + std::string(to_string(e.kind)) + " file of " + e.nic);
}

// Whether the original is a value of the target's kind, as the kernel prints it.
Result<void> check_original(const JournalEntry& e) {
  const auto bad = [&](const std::string& why) { return make_error("", "original of " + e.target + " " + why); };
  if (e.original.size() > kMaxOriginal) return bad("is longer than " + std::to_string(kMaxOriginal) + " bytes");
  if (e.kind == SettingKind::Channels) {
    if (auto c = parse_value(ValueType::Channels, e.original); !c) return bad(c.error().message);
    return {};
  }
  if (is_mask(e.kind)) {
    if (auto m = parse_cpumask(e.original); !m) return bad("'" + e.original + "' is not a CPU mask");
    return {};
  }
  const std::string digits = !e.original.empty() && e.original[0] == '-' ? e.original.substr(1) : e.original;
  if (!all_digits(digits, 18)) return bad("'" + e.original + "' is not a number");
  return {};
}

Result<JournalEntry> parse_entry(const nlohmann::json& j, int format) {
  if (!j.is_object()) return make_error("", "is not an object");
  static const std::set<std::string> v1 = {"target", "kind", "nic", "original"};
  static const std::set<std::string> v2 = {"target", "kind", "nic", "original", "ifindex"};
  const auto& keys = format == 1 ? v1 : v2;
  for (const auto& item : j.items())
    if (!keys.count(item.key())) return make_error("", "unknown key '" + item.key() + "'");
  for (const auto& k : keys)
    if (!j.contains(k)) return make_error("", "has no '" + k + "'");
  for (const char* k : {"target", "kind", "nic", "original"})
    if (!j.at(k).is_string()) return make_error("", "'" + std::string(k) + "' is not a string");
  JournalEntry e;
  e.target = j.at("target").get<std::string>();
  const auto kind = setting_kind_from_string(j.at("kind").get<std::string>());
  if (!kind) return make_error("", "unknown kind " + j.at("kind").dump());
  e.kind = *kind;
  e.nic = j.at("nic").get<std::string>();
  e.original = j.at("original").get<std::string>();
  if (format >= 2) {
    const auto& ix = j.at("ifindex");
    if (!ix.is_number_unsigned() || ix.get<unsigned long long>() > 0x7fffffffULL)
      return make_error("", "'ifindex' is not an interface index");
    e.ifindex = ix.get<unsigned>();
    if (e.nic.empty() && e.ifindex != 0) return make_error("", "a sysctl has no ifindex");
  }
  if (auto r = check_target(e); !r) return r.error();
  if (auto r = check_original(e); !r) return r.error();
  return e;
}

}  // namespace

std::string read_boot_id(const SysRoot& root) {
  auto text = root.read(paths::kBootId);
  if (!text) return {};
  const std::string id(trim(*text));
  return is_uuid(id) ? id : std::string();
}

unsigned read_ifindex(const SysRoot& root, const std::string& nic) {
  auto text = root.read(paths::kNetClass + "/" + nic + "/ifindex");
  if (!text) return 0;
  const std::string s(trim(*text));
  return all_digits(s, 9) ? static_cast<unsigned>(std::stoul(s)) : 0;
}

std::string Journal::to_json(const JournalFile& file) { return to_json(file.boot_id, file.entries); }

// Streamed (the same bytes as nlohmann's dump(1) of the tree), without copying the entries.
std::string Journal::to_json(const std::string& boot_id, const std::vector<JournalEntry>& entries) {
  return json_text(
             [&](JsonOut& j) {
               j.begin_object();
               j.member("boot_id", boot_id);
               j.key("entries").begin_array();
               for (const auto& e : entries) {
                 j.begin_object();
                 j.member("ifindex", e.ifindex).member("kind", to_string(e.kind)).member("nic", e.nic);
                 j.member("original", e.original).member("target", e.target);
                 j.end_object();
               }
               j.end_array();
               j.member("format", kJournalFormat);
               j.end_object();
             },
             1) +
         "\n";
}

std::string Journal::to_json(const std::vector<JournalEntry>& entries) {
  JournalFile f;
  f.entries = entries;
  return to_json(f);
}

Result<JournalFile> Journal::parse(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error("", "is not JSON");
  if (!j.is_object()) return make_error("", "is not a JSON object");
  if (!j.contains("format") || !j.at("format").is_number_integer())
    return make_error("", "has no format number");
  JournalFile f;
  f.format = j.at("format").get<int>();
  if (f.format != 1 && f.format != kJournalFormat)
    return make_error("", "journal format " + j.at("format").dump() + " is not 1 or " + std::to_string(kJournalFormat) +
                              " (written by another version of guest-nettune?)");
  for (const auto& item : j.items()) {
    const std::string& k = item.key();
    if (k != "format" && k != "entries" && !(k == "boot_id" && f.format >= 2))
      return make_error("", "unknown key '" + k + "'");
  }
  if (f.format >= 2) {
    if (!j.contains("boot_id") || !j.at("boot_id").is_string()) return make_error("", "has no boot_id");
    f.boot_id = j.at("boot_id").get<std::string>();
    if (!f.boot_id.empty() && !is_uuid(f.boot_id)) return make_error("", "boot_id " + j.at("boot_id").dump() + " is not a boot id");
  }
  if (!j.contains("entries") || !j.at("entries").is_array()) return make_error("", "has no entries array");
  const auto& entries = j.at("entries");
  if (entries.size() > kMaxEntries)
    return make_error("", std::to_string(entries.size()) + " entries, more than " + std::to_string(kMaxEntries));
  std::set<std::string> seen;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto e = parse_entry(entries[i], f.format);
    if (!e) return make_error("", "entry " + std::to_string(i) + ": " + e.error().message);
    if (!seen.insert(e->target).second)
      return make_error("", "entry " + std::to_string(i) + ": target " + e->target + " is journalled twice");
    f.entries.push_back(std::move(*e));
  }
  return f;
}

Result<std::vector<JournalEntry>> Journal::from_json(const std::string& text) {
  auto f = parse(text);
  if (!f) return f.error();
  return std::move(f->entries);
}

Result<Journal> Journal::load(const std::string& dir, const JournalContext& ctx) {
  Journal j;
  j.path_ = dir + "/journal.json";
  j.ctx_ = ctx;
  remove_stale_temp_files(j.path_);
  auto text = read_small_file(j.path_, kMaxJournalBytes);
  if (!text) {
    if (text.error().code == ENOENT) return j;
    return make_error(j.path_, text.error().message,
                      "the journal holds the values to restore: keep a copy, then fix or remove it by hand");
  }
  auto file = parse(*text);
  if (!file)
    return make_error(j.path_, file.error().message,
                      "the journal holds the values to restore: keep a copy, then fix or remove it by hand "
                      "(nothing was written)");
  if (j.ctx_.boot_id.empty()) j.ctx_.boot_id = file->boot_id;
  const bool earlier_boot = !file->boot_id.empty() && file->boot_id != j.ctx_.boot_id;
  for (auto& e : file->entries) {
    if (earlier_boot) {
      j.stale_.push_back({std::move(e), "recorded in an earlier boot (" + file->boot_id +
                                            "): the kernel reset it at boot, so there is nothing to restore"});
      continue;
    }
    j.targets_.insert(e.target);
    j.entries_.push_back(std::move(e));
  }
  j.stale_in_file_ = !j.stale_.empty();
  j.set_ifindexes(ctx.ifindex);
  return j;
}

bool Journal::has(const std::string& target) const { return targets_.count(target) > 0; }

unsigned Journal::ifindex_now(const std::string& nic) const {
  auto it = ctx_.ifindex.find(nic);
  return it == ctx_.ifindex.end() ? 0 : it->second;
}

void Journal::make_stale(const std::string& nic, const std::string& why) {
  auto it = std::stable_partition(entries_.begin(), entries_.end(), [&](const JournalEntry& e) { return e.nic != nic; });
  for (auto s = it; s != entries_.end(); ++s) {
    targets_.erase(s->target);
    stale_.push_back({std::move(*s), why});
    stale_in_file_ = true;
  }
  entries_.erase(it, entries_.end());
}

void Journal::set_ifindexes(const std::map<std::string, unsigned>& now) {
  for (const auto& [nic, ix] : now) {
    if (ix != 0) ctx_.ifindex[nic] = ix;
    if (ix == 0) continue;
    unsigned was = 0;
    for (const auto& e : entries_)
      if (e.nic == nic && e.ifindex != 0 && e.ifindex != ix) was = e.ifindex;
    if (was != 0)
      make_stale(nic, nic + " is another device now (ifindex " + std::to_string(ix) + ", was " + std::to_string(was) +
                          "): it started from the kernel's defaults, so there is nothing to restore");
  }
}

Result<void> Journal::record(const std::vector<JournalEntry>& entries) {
  bool changed = false;
  for (const auto& e : entries) {
    if (!targets_.insert(e.target).second) continue;
    entries_.push_back(e);
    entries_.back().ifindex = e.nic.empty() ? 0 : ifindex_now(e.nic);
    changed = true;
  }
  return changed ? save() : Result<void>{};
}

Result<void> Journal::forget(const std::vector<std::string>& targets) {
  const std::set<std::string> drop(targets.begin(), targets.end());
  const size_t before = entries_.size();
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const JournalEntry& e) { return drop.count(e.target) > 0; }),
                 entries_.end());
  for (const auto& t : targets) targets_.erase(t);
  return entries_.size() != before || stale_in_file_ ? save() : Result<void>{};
}

Result<void> Journal::save() {
  if (auto r = write_file_atomically(path_, to_json(ctx_.boot_id, entries_)); !r) return r;
  stale_in_file_ = false;
  return {};
}

}  // namespace gn
