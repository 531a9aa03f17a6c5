#include "journal.h"

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <set>

#include "durable_file.h"

namespace gn {

namespace {
constexpr int kJournalFormat = 1;
}  // namespace

std::string Journal::to_json(const std::vector<JournalEntry>& entries) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : entries)
    arr.push_back({{"target", e.target}, {"kind", to_string(e.kind)}, {"nic", e.nic}, {"original", e.original}});
  return nlohmann::json{{"format", kJournalFormat}, {"entries", arr}}.dump(1) + "\n";
}

Result<std::vector<JournalEntry>> Journal::from_json(const std::string& text) {
  std::vector<JournalEntry> out;
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("format").get<int>() != kJournalFormat)
      return make_error("", "journal format " + j.at("format").dump() + " is not " + std::to_string(kJournalFormat));
    for (const auto& e : j.at("entries")) {
      JournalEntry je;
      je.target = e.at("target").get<std::string>();
      const auto kind = setting_kind_from_string(e.at("kind").get<std::string>());
      if (!kind) return make_error("", "unknown kind " + e.at("kind").dump());
      je.kind = *kind;
      je.nic = e.at("nic").get<std::string>();
      je.original = e.at("original").get<std::string>();
      out.push_back(std::move(je));
    }
  } catch (const nlohmann::json::exception& ex) {
    return make_error("", std::string("does not parse: ") + ex.what());
  }
  return out;
}

Result<Journal> Journal::load(const std::string& dir) {
  Journal j;
  j.path_ = dir + "/journal.json";
  remove_stale_temp_files(j.path_);
  auto text = read_small_file(j.path_);
  if (!text) {
    if (text.error().code == ENOENT) return j;
    return text.error();
  }
  auto entries = from_json(*text);
  if (!entries)
    return make_error(j.path_, entries.error().message,
                      "the journal holds the values to restore: keep a copy, then fix or remove it by hand");
  j.entries_ = std::move(*entries);
  for (const auto& e : j.entries_) j.targets_.insert(e.target);
  return j;
}

bool Journal::has(const std::string& target) const { return targets_.count(target) > 0; }

Result<void> Journal::record(const std::vector<JournalEntry>& entries) {
  bool changed = false;
  for (const auto& e : entries) {
    if (!targets_.insert(e.target).second) continue;
    entries_.push_back(e);
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
  return entries_.size() != before ? save() : Result<void>{};
}

Result<void> Journal::save() const {
  return write_file_atomically(path_, to_json(entries_));
}

}  // namespace gn
