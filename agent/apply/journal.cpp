#include "journal.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include "cpuset.h"
#include "durable_file.h"
#include "json_out.h"
#include "json_plain.h"
#include "kernel_paths.h"
#include "policy.h"

namespace gn {

namespace {
// <0, 0, >0 as a's NIC sorts before, with or after b's (one shared copy: equal, not compared).
int compare_nics(const Target& a, const Target& b) {
  return a.nic.same_copy(b.nic) ? 0 : a.nic.view().compare(b.nic.view());
}
}  // namespace

bool target_less(const Target& a, const Target& b) {
  if (a.kind != b.kind) return a.kind < b.kind;
  switch (row(a.kind).place) {
    case Place::Ethtool: return compare_nics(a, b) < 0;
    case Place::RxQueue:
    case Place::TxQueue:
      if (const int c = compare_nics(a, b)) return c < 0;
      return a.queue() < b.queue();
    case Place::Irq: return a.irq() < b.irq();
    case Place::Sysctl: return std::less<const SysctlRow*>()(a.sysctl(), b.sysctl());
  }
  return false;
}

bool same_target(const Target& a, const Target& b) { return !target_less(a, b) && !target_less(b, a); }

static_assert(sizeof(JournalEntry) <= 32, "a wide guest journals 20k entries");

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

// Takes `part` off the front of `s`, if `s` starts with it.
bool eat(std::string_view& s, std::string_view part) {
  if (s.substr(0, part.size()) != part) return false;
  s.remove_prefix(part.size());
  return true;
}

// The number N of s = "<parts...>N/<file>": 1 to max_len digits, as the kernel names queues and
// IRQs (no leading zero: "rx-01" is no queue's directory).
std::optional<unsigned long> numbered(std::string_view s, std::initializer_list<std::string_view> parts,
                                      std::string_view file, size_t max_len) {
  for (const auto part : parts)
    if (!eat(s, part)) return std::nullopt;
  if (s.size() <= file.size() + 1 || s.substr(s.size() - file.size()) != file || s[s.size() - file.size() - 1] != '/')
    return std::nullopt;
  const std::string_view digits = s.substr(0, s.size() - file.size() - 1);
  if (digits.empty() || digits.size() > max_len || (digits.size() > 1 && digits[0] == '0') ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::stoul(std::string(digits));
}

// The target a journal's path names, if it is a file (or channel count) the agent itself writes
// for this kind and NIC: the journal must never make revert write anything else. Where each kind
// lives is its catalogue row (catalogue.h). `nic` is shared by the entries of one NIC.
Result<Target> target_of(std::string_view path, SettingKind kind, const SharedText& nic) {
  const auto bad = [&](const std::string& why) { return make_error("", "target '" + std::string(path) + "' " + why); };
  const KindRow& k = row(kind);
  if (k.place == Place::Sysctl) {
    if (!nic.empty()) return bad("is a sysctl but names NIC '" + nic.str() + "'");
    std::string_view name = path;
    if (eat(name, paths::kNetCoreSysctl) && eat(name, "/"))
      for (const auto& r : kSysctls)
        if (name == r.name) return Target{kind, SharedText(), -1, 0, &r};
    return bad("is not a sysctl guest-nettune writes");
  }
  if (nic.empty()) return bad("needs the NIC it belongs to");
  if (auto r = validate_interface_name(nic.str()); !r) return make_error("", "nic: " + r.error().message);
  std::string_view rest = path;
  std::optional<unsigned long> n;
  switch (k.place) {
    case Place::Ethtool:
      if (eat(rest, "ethtool:") && eat(rest, nic) && rest == ":channels") n = 0;
      break;
    case Place::RxQueue: n = numbered(rest, {paths::kNetClass, "/", nic, "/queues/rx-"}, k.file, 5); break;
    case Place::TxQueue: n = numbered(rest, {paths::kNetClass, "/", nic, "/queues/tx-"}, k.file, 5); break;
    case Place::Irq: n = numbered(rest, {paths::kIrqDir, "/"}, k.file, 7); break;
    case Place::Sysctl: break;
  }
  if (!n) return bad("is not a " + std::string(to_string(kind)) + " file of " + nic.str());
  if (k.place == Place::Irq) return Target{kind, nic, -1, static_cast<unsigned>(*n), nullptr};
  if (k.place == Place::Ethtool) return Target{kind, nic, -1, 0, nullptr};
  if (*n > static_cast<unsigned long>(kMaxQueue))
    return bad("names a queue past " + std::to_string(kMaxQueue) + ", virtio-net's last");
  return Target{kind, nic, static_cast<int>(*n), 0, nullptr};
}

// Whether the original is a value of the target's kind, as the kernel prints it.
Result<void> check_original(const JournalEntry& e) {
  const auto bad = [&](const std::string& why) { return make_error("", "original of " + e.path() + " " + why); };
  const std::string& original = e.original.str();
  if (original.size() > kMaxOriginal) return bad("is longer than " + std::to_string(kMaxOriginal) + " bytes");
  if (e.kind == SettingKind::Channels) {
    if (auto c = parse_value(ValueType::Channels, original); !c) return bad(c.error().message);
    return {};
  }
  if (is_mask(e.kind)) {
    if (auto m = parse_cpumask(original); !m) return bad("'" + original + "' is not a CPU mask");
    return {};
  }
  const std::string digits = !original.empty() && original[0] == '-' ? original.substr(1) : original;
  if (!all_digits(digits, 18)) return bad("'" + original + "' is not a number");
  return {};
}

// The entry of a journal's path and original, checked (target_of, check_original).
Result<JournalEntry> checked_entry(std::string_view path, SettingKind kind, const SharedText& nic, SharedText original,
                                   unsigned ifindex) {
  auto target = target_of(path, kind, nic);
  if (!target) return target.error();
  JournalEntry e(std::move(*target), std::move(original), ifindex);
  if (auto r = check_original(e); !r) return r.error();
  return e;
}

// A JSON value as the journal's checks see it: a string, an integer, or anything else.
struct Scalar {
  enum class Type { Absent, String, Signed, Unsigned, Other };
  Type type = Type::Absent;
  std::string text;              // String
  long long signed_value = 0;    // Signed (negative)
  unsigned long long unsigned_value = 0;  // Unsigned

  bool present() const { return type != Type::Absent; }
  bool is_integer() const { return type == Type::Signed || type == Type::Unsigned; }
  // As JSON, for messages.
  std::string dump() const {
    switch (type) {
      case Type::String: return nlohmann::json(text).dump();
      case Type::Signed: return std::to_string(signed_value);
      case Type::Unsigned: return std::to_string(unsigned_value);
      case Type::Absent:
      case Type::Other: break;
    }
    return "a value";
  }
};

// An element of "entries" as read, before any check.
struct RawEntry {
  bool object = false;
  Scalar target, kind, nic, original, ifindex;
  std::optional<std::string> first_unknown;  // the first key, in sorted order, of no known name
};

// The journal as read, before any check: only what the checks look at.
struct RawJournal {
  bool root_object = false;
  std::set<std::string> keys;  // top-level keys
  Scalar format, boot_id;
  bool entries_array = false;
  std::vector<RawEntry> entries;  // all of them; streaming: the one being read
  // Streaming: each entry is checked as it ends (against the format read so far, else this
  // agent's, which its own files give last) and only its JournalEntry kept, up to the first
  // entry that fails.
  bool stream = false;
  bool keep_originals = true;  // false: each original is checked, then let go (status)
  size_t count = 0;         // entries seen
  int checked_format = 0;   // the format they were checked against (0: none yet, -1: more than one)
  std::vector<JournalEntry> checked;
  std::optional<std::pair<size_t, std::string>> first_error;  // entry index, why
  SharedText nic;  // the last entry's NIC: the entries of one NIC share its name
};

Result<JournalEntry> parse_entry(RawEntry& raw, int format, SharedText& nic);

// Reads the journal's JSON (nlohmann's strict parser, as events) into a RawJournal without
// building a document: a journal of every queue of a wide guest is read at every run. A key
// given twice counts with its last value, as in a parsed document.
class JournalReader : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit JournalReader(RawJournal& out) : out_(out) {}

  bool null() override { return value(Scalar{}); }
  bool boolean(bool /*val*/) override { return value(Scalar{}); }
  bool number_integer(number_integer_t val) override {
    Scalar v;
    v.type = Scalar::Type::Signed;
    v.signed_value = val;
    return value(std::move(v));
  }
  bool number_unsigned(number_unsigned_t val) override {
    Scalar v;
    v.type = Scalar::Type::Unsigned;
    v.unsigned_value = val;
    return value(std::move(v));
  }
  bool number_float(number_float_t /*val*/, const string_t& /*s*/) override { return value(Scalar{}); }
  bool string(string_t& val) override {
    Scalar v;
    v.type = Scalar::Type::String;
    v.text = std::move(val);
    return value(std::move(v));
  }
  bool binary(binary_t& /*val*/) override { return value(Scalar{}); }
  bool start_object(std::size_t /*elements*/) override { return open(Ctx::Entry); }
  bool start_array(std::size_t /*elements*/) override { return open(Ctx::Entries); }
  bool key(string_t& val) override {
    if (stack_.empty()) return true;
    if (stack_.back() == Ctx::Root) {
      field_ = val == "format" ? Field::Format : val == "boot_id" ? Field::BootId : val == "entries" ? Field::Entries : Field::None;
      out_.keys.insert(val);
    } else if (stack_.back() == Ctx::Entry) {
      field_ = entry_field(val);
      RawEntry& e = out_.entries.back();
      if (entry_slot(e) == nullptr && (!e.first_unknown || val < *e.first_unknown)) e.first_unknown = val;
    }
    return true;
  }
  bool end_object() override {
    const bool entry = !stack_.empty() && stack_.back() == Ctx::Entry;
    close();
    if (entry) finish_entry();
    return true;
  }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& /*ex*/) override {
    return false;
  }

 private:
  // What a nested level is to the journal: the top object, the entries array, an entry, or
  // something inside a value that is not a string or number (skipped).
  enum class Ctx { Root, Entries, Entry, Skip };

  // What the last key of the innermost Root or Entry names, found once when the key is read.
  enum class Field { None, Target, Kind, Nic, Original, Ifindex, Format, BootId, Entries };

  static Field entry_field(std::string_view key) {
    switch (key.size()) {
      case 3: return key == "nic" ? Field::Nic : Field::None;
      case 4: return key == "kind" ? Field::Kind : Field::None;
      case 6: return key == "target" ? Field::Target : Field::None;
      case 7: return key == "ifindex" ? Field::Ifindex : Field::None;
      case 8: return key == "original" ? Field::Original : Field::None;
      default: return Field::None;
    }
  }
  Scalar* entry_slot(RawEntry& e) const {
    switch (field_) {
      case Field::Target: return &e.target;
      case Field::Kind: return &e.kind;
      case Field::Nic: return &e.nic;
      case Field::Original: return &e.original;
      case Field::Ifindex: return &e.ifindex;
      default: return nullptr;
    }
  }
  Scalar* root_slot() const {
    if (field_ == Field::Format) return &out_.format;
    if (field_ == Field::BootId) return &out_.boot_id;
    return nullptr;
  }

  // A string, number or other plain value where the parser stands.
  bool value(Scalar v) {
    if (stack_.empty()) return true;  // the whole document is one value: not an object
    switch (stack_.back()) {
      case Ctx::Root:
        if (Scalar* slot = root_slot()) *slot = std::move(v);
        else if (field_ == Field::Entries) out_.entries_array = false, restart_entries();
        break;
      case Ctx::Entries:
        out_.entries.emplace_back();
        finish_entry();
        break;
      case Ctx::Entry:
        if (Scalar* slot = entry_slot(out_.entries.back())) *slot = std::move(v);
        break;
      case Ctx::Skip: break;
    }
    return true;
  }

  // An object (Entry) or array (Entries) starts where the parser stands.
  bool open(Ctx as) {
    const bool object = as == Ctx::Entry;
    Ctx next = Ctx::Skip;
    if (stack_.empty()) {
      out_.root_object = object;
      next = object ? Ctx::Root : Ctx::Skip;
    } else {
      Scalar other;
      other.type = Scalar::Type::Other;
      switch (stack_.back()) {
        case Ctx::Root:
          if (Scalar* slot = root_slot()) {
            *slot = other;
          } else if (field_ == Field::Entries) {
            out_.entries_array = !object;
            restart_entries();
            if (!object) next = Ctx::Entries;
          }
          break;
        case Ctx::Entries:
          out_.entries.emplace_back();
          out_.entries.back().object = object;
          if (object) next = Ctx::Entry;
          else finish_entry();
          break;
        case Ctx::Entry:
          if (Scalar* slot = entry_slot(out_.entries.back())) *slot = other;
          break;
        case Ctx::Skip: break;
      }
    }
    stack_.push_back(next);
    return true;
  }
  bool close() {
    if (!stack_.empty()) stack_.pop_back();
    return true;
  }

  // "entries" again: the last one counts.
  void restart_entries() {
    out_.entries.clear();
    out_.count = 0;
    out_.checked_format = 0;
    out_.checked.clear();
    out_.first_error.reset();
  }

  // Streaming: the entry read last is complete; check it now and keep only the result.
  void finish_entry() {
    if (!out_.stream) return;
    RawEntry raw = std::move(out_.entries.back());
    out_.entries.pop_back();
    const size_t index = out_.count++;
    if (out_.first_error) return;
    const bool known = out_.format.type == Scalar::Type::Unsigned &&
                       (out_.format.unsigned_value == 1 || out_.format.unsigned_value == kJournalFormat);
    const int format = known ? static_cast<int>(out_.format.unsigned_value) : kJournalFormat;
    if (out_.checked_format == 0) out_.checked_format = format;
    else if (out_.checked_format != format) out_.checked_format = -1;
    auto e = parse_entry(raw, format, out_.nic);
    if (!e) {
      out_.first_error = std::make_pair(index, e.error().message);
      return;
    }
    if (!out_.keep_originals) e->original = SharedText();
    out_.checked.push_back(std::move(*e));
  }

  RawJournal& out_;
  std::vector<Ctx> stack_;
  Field field_ = Field::None;
};

Result<JournalEntry> parse_entry(RawEntry& raw, int format, SharedText& nic) {
  if (!raw.object) return make_error("", "is not an object");
  // Keys in sorted order, as a document lists them: the first one of no known name.
  std::optional<std::string> unknown = raw.first_unknown;
  if (format == 1 && raw.ifindex.present() && (!unknown || std::string("ifindex") < *unknown)) unknown = "ifindex";
  if (unknown) return make_error("", "unknown key '" + *unknown + "'");
  const std::pair<const char*, const Scalar*> keys[] = {
      {"ifindex", &raw.ifindex}, {"kind", &raw.kind}, {"nic", &raw.nic}, {"original", &raw.original}, {"target", &raw.target}};
  for (const auto& [name, v] : keys)
    if (!v->present() && !(format == 1 && v == &raw.ifindex)) return make_error("", "has no '" + std::string(name) + "'");
  const std::pair<const char*, const Scalar*> strings[] = {
      {"target", &raw.target}, {"kind", &raw.kind}, {"nic", &raw.nic}, {"original", &raw.original}};
  for (const auto& [name, v] : strings)
    if (v->type != Scalar::Type::String) return make_error("", "'" + std::string(name) + "' is not a string");
  const auto kind = setting_kind_from_string(raw.kind.text);
  if (!kind) return make_error("", "unknown kind " + raw.kind.dump());
  unsigned ifindex = 0;
  if (format >= 2) {
    if (raw.ifindex.type != Scalar::Type::Unsigned || raw.ifindex.unsigned_value > 0x7fffffffULL)
      return make_error("", "'ifindex' is not an interface index");
    ifindex = static_cast<unsigned>(raw.ifindex.unsigned_value);
    if (raw.nic.text.empty() && ifindex != 0) return make_error("", "a sysctl has no ifindex");
  }
  if (nic != raw.nic.text) nic = SharedText(std::move(raw.nic.text));
  return checked_entry(raw.target.text, *kind, nic, std::move(raw.original.text), ifindex);
}

}  // namespace

Result<JournalEntry> JournalEntry::of(std::string_view path, SettingKind kind, const std::string& nic,
                                      SharedText original, unsigned ifindex) {
  return checked_entry(path, kind, SharedText(nic), std::move(original), ifindex);
}

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
void Journal::write_json(std::ostream& out, const std::string& boot_id, const std::vector<JournalEntry>& entries) {
  {
    JsonOut j(out, 1);
    j.begin_object();
    j.member("boot_id", boot_id);
    j.key("entries").begin_array();
    for (const auto& e : entries) {
      j.begin_object();
      j.member("ifindex", e.ifindex).member("kind", to_string(e.kind)).member("nic", e.nic.view());
      j.member("original", e.original.view()).member("target", e.path());
      j.end_object();
    }
    j.end_array();
    j.member("format", kJournalFormat);
    j.end_object();
  }
  out << "\n";
}

// The text save() writes, through the same stream writer.
std::string Journal::to_json(const std::string& boot_id, const std::vector<JournalEntry>& entries) {
  std::ostringstream out;
  write_json(out, boot_id, entries);
  return out.str();
}

std::string Journal::to_json(const std::vector<JournalEntry>& entries) {
  JournalFile f;
  f.entries = entries;
  return to_json(f);
}

namespace {
// A RawJournal to read into: streaming (each entry checked as it is read, only its result kept)
// or not (every entry kept as read). An entry takes at least 64 bytes of the text: room for every
// entry up front, so that the entries are never moved while they are read (what is reserved and
// unused is never touched).
void start_raw(RawJournal& raw, bool stream, bool keep_originals, size_t text_size) {
  raw = RawJournal{};
  raw.stream = stream;
  raw.keep_originals = keep_originals;
  if (stream) raw.checked.reserve(std::min(text_size / 64, kMaxEntries));
}

// Orders positions in `entries` by the target of the entry at each.
auto by_target_of(const std::vector<JournalEntry>& entries) {
  return [of = &entries](uint32_t a, uint32_t b) { return target_less((*of)[a], (*of)[b]); };
}

// The positions of `entries` in the order of their targets; equal targets in their own order.
std::vector<uint32_t> in_target_order(const std::vector<JournalEntry>& entries) {
  std::vector<uint32_t> order(entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
  std::stable_sort(order.begin(), order.end(), by_target_of(entries));
  return order;
}

// The first entry whose target an earlier entry has (entries.size() when none does).
size_t first_twice(const std::vector<JournalEntry>& entries) {
  const std::vector<uint32_t> order = in_target_order(entries);
  size_t first = entries.size();
  for (size_t k = 1; k < order.size(); ++k)
    if (same_target(entries[order[k - 1]], entries[order[k]])) first = std::min<size_t>(first, order[k]);
  return first;
}

// The error of entry i, whose target an earlier entry has.
Result<JournalFile> journalled_twice(const std::vector<JournalEntry>& entries, size_t i) {
  return make_error("", "entry " + std::to_string(i) + ": target " + entries[i].path() + " is journalled twice");
}

// Checks what was read. nullopt: streaming checked the entries against another format than the
// file turns out to have, and the text must be read again without streaming.
std::optional<Result<JournalFile>> check_raw(RawJournal& raw, bool keep_originals) {
  if (!raw.root_object) return Result<JournalFile>(make_error("", "is not a JSON object"));
  if (!raw.format.is_integer()) return Result<JournalFile>(make_error("", "has no format number"));
  JournalFile f;
  const bool known_format = raw.format.type == Scalar::Type::Unsigned &&
                            (raw.format.unsigned_value == 1 || raw.format.unsigned_value == kJournalFormat);
  if (!known_format)
    return Result<JournalFile>(make_error("", "journal format " + raw.format.dump() + " is not 1 or " +
                                                  std::to_string(kJournalFormat) +
                                                  " (written by another version of guest-nettune?)"));
  f.format = static_cast<int>(raw.format.unsigned_value);
  for (const auto& k : raw.keys) {
    if (k != "format" && k != "entries" && !(k == "boot_id" && f.format >= 2))
      return Result<JournalFile>(make_error("", "unknown key '" + k + "'"));
  }
  if (f.format >= 2) {
    if (raw.boot_id.type != Scalar::Type::String) return Result<JournalFile>(make_error("", "has no boot_id"));
    f.boot_id = raw.boot_id.text;
    if (!f.boot_id.empty() && !is_uuid(f.boot_id))
      return Result<JournalFile>(make_error("", "boot_id " + raw.boot_id.dump() + " is not a boot id"));
  }
  if (!raw.entries_array) return Result<JournalFile>(make_error("", "has no entries array"));
  const size_t count = raw.stream ? raw.count : raw.entries.size();
  if (count > kMaxEntries)
    return Result<JournalFile>(make_error("", std::to_string(count) + " entries, more than " + std::to_string(kMaxEntries)));
  if (raw.stream) {
    if (raw.checked_format != 0 && raw.checked_format != f.format) return std::nullopt;
    // The first target journalled twice is before the first entry that failed (only those
    // before it were kept), so it is the first error.
    if (const size_t i = first_twice(raw.checked); i < raw.checked.size()) return journalled_twice(raw.checked, i);
    if (raw.first_error)
      return Result<JournalFile>(
          make_error("", "entry " + std::to_string(raw.first_error->first) + ": " + raw.first_error->second));
    f.entries = std::move(raw.checked);
    return Result<JournalFile>(std::move(f));
  }
  f.entries.reserve(raw.entries.size());
  SharedText nic;
  for (size_t i = 0; i < raw.entries.size(); ++i) {
    auto e = parse_entry(raw.entries[i], f.format, nic);
    if (!e) {
      // A target journalled twice before this entry is the first error.
      if (const size_t k = first_twice(f.entries); k < f.entries.size()) return journalled_twice(f.entries, k);
      return Result<JournalFile>(make_error("", "entry " + std::to_string(i) + ": " + e.error().message));
    }
    if (!keep_originals) e->original = SharedText();
    f.entries.push_back(std::move(*e));
  }
  if (const size_t i = first_twice(f.entries); i < f.entries.size()) return journalled_twice(f.entries, i);
  return Result<JournalFile>(std::move(f));
}

// Reads and checks a journal's text, streaming or not (start_raw).
Result<JournalFile> parse_journal(const std::string& text, bool stream, bool keep_originals) {
  RawJournal raw;
  start_raw(raw, stream, keep_originals, text.size());
  // The agent's own files are plain JSON; anything else is read again by nlohmann's parser,
  // which alone says what is not JSON (json_plain.h).
  if (JournalReader plain(raw); !sax_parse_plain(text, plain)) {
    start_raw(raw, stream, keep_originals, text.size());
    JournalReader reader(raw);
    if (!nlohmann::json::sax_parse(text, &reader)) return make_error("", "is not JSON");
  }
  auto f = check_raw(raw, keep_originals);
  if (!f) return parse_journal(text, /*stream=*/false, keep_originals);
  return std::move(*f);
}

// Reads and checks the journal file a block at a time, never holding its text, when it is plain
// JSON as the agent writes it. nullopt: the file is not (or could not be read in full, or its
// entries must be read again against its format): the caller reads it whole with parse_journal,
// which then also names a read error.
std::optional<Result<JournalFile>> read_plain_journal(FileBlocks& file, bool keep_originals) {
  RawJournal raw;
  start_raw(raw, /*stream=*/true, keep_originals, file.size_at_open());
  const std::function<std::string_view()> more = [&file] { return file.next(); };
  JournalReader plain(raw);
  if (!sax_parse_plain(more, plain) || file.error() != nullptr) return std::nullopt;
  return check_raw(raw, keep_originals);
}
}  // namespace

Result<JournalFile> Journal::parse(const std::string& text) {
  return parse_journal(text, /*stream=*/true, /*keep_originals=*/true);
}

Result<std::vector<JournalEntry>> Journal::from_json(const std::string& text) {
  auto f = parse(text);
  if (!f) return f.error();
  return std::move(f->entries);
}

Result<Journal> Journal::load(const std::string& dir, const JournalContext& ctx) {
  return load(dir, ctx, /*keep_originals=*/true);
}

Result<Journal> Journal::load(const std::string& dir, const SysRoot& root) {
  return load(dir, root, /*keep_originals=*/true);
}

Result<Journal> Journal::load(const std::string& dir, const SysRoot& root, bool keep_originals) {
  auto j = load(dir, JournalContext{read_boot_id(root), {}}, keep_originals);
  if (!j) return j;
  std::map<std::string, unsigned> ifindex;
  for (const auto& e : j->entries_)
    if (!e.nic.empty() && !ifindex.count(e.nic.str())) ifindex[e.nic.str()] = read_ifindex(root, e.nic.str());
  j->set_ifindexes(ifindex);
  return j;
}

Result<JournalTargets> Journal::live_targets(const std::string& dir, const JournalContext& ctx) {
  auto j = load(dir, ctx, /*keep_originals=*/false);
  if (!j) return j.error();
  return JournalTargets(j->entries_);
}

Result<JournalTargets> Journal::live_targets(const std::string& dir, const SysRoot& root) {
  auto j = load(dir, root, /*keep_originals=*/false);
  if (!j) return j.error();
  return JournalTargets(j->entries_);
}

JournalTargets::JournalTargets(const std::vector<JournalEntry>& entries) : size_(entries.size()) {
  keys_.reserve(entries.size());
  for (const auto& e : entries)
    if (!e.nic.empty()) nics_.emplace(e.nic.str(), nics_.size());
  for (const auto& e : entries) {
    const auto k = key_of(e);
    if (!k) continue;
    if (const auto n = narrow(*k)) keys_.push_back(*n);
    else wide_keys_.push_back(*k);
  }
  std::sort(keys_.begin(), keys_.end());
  std::sort(wide_keys_.begin(), wide_keys_.end());
}

// The key in 32 bits, where it fits (the kind, the first 255 NICs and numbers below 2^21: every
// queue, and the IRQs of any guest seen): the kind (3 bits), the NIC (8, all ones for none) and
// the number (21).
std::optional<uint32_t> JournalTargets::narrow(uint64_t key) {
  const uint64_t nic = key >> 40, kind = key >> 32 & 0xff, number = key & 0xffffffff;
  const uint64_t n = nic == kNoNic ? 0xff : nic;
  if (n > 0xff || (n == 0xff && nic != kNoNic) || kind >= 8 || number >= (uint64_t{1} << 21)) return std::nullopt;
  return static_cast<uint32_t>(kind << 29 | n << 21 | number);
}

size_t JournalTargets::nic_index(std::string_view nic) const {
  const auto it = nics_.find(nic);
  return it == nics_.end() ? nics_.size() : it->second;
}

// The NIC's place in nics_ (24 bits, all ones where the path names no NIC), the kind (8) and the
// number (32): one integer, equal for two targets exactly when their paths are equal.
std::optional<uint64_t> JournalTargets::key(SettingKind kind, size_t nic, unsigned long number) const {
  const Place place = row(kind).place;
  const bool named = place == Place::Ethtool || place == Place::RxQueue || place == Place::TxQueue;
  if (named && (nic >= nics_.size() || nic >= kNoNic)) return std::nullopt;
  if (number > UINT32_MAX) return std::nullopt;
  const uint64_t n = named ? nic : kNoNic;
  return n << 40 | uint64_t(static_cast<unsigned>(kind)) << 32 | number;
}

// nullopt: a target no entry can have (a queue without its number, a sysctl without its row).
std::optional<uint64_t> JournalTargets::key_of(const Target& t) const {
  switch (row(t.kind).place) {
    case Place::Ethtool: return key(t.kind, nic_index(t.nic), 0);
    case Place::Sysctl:
      if (t.sysctl() == nullptr) return std::nullopt;
      return key(t.kind, 0, static_cast<unsigned long>(t.sysctl() - kSysctls));
    case Place::RxQueue:
    case Place::TxQueue:
      if (t.queue() < 0) return std::nullopt;
      return key(t.kind, nic_index(t.nic), static_cast<unsigned long>(t.queue()));
    case Place::Irq: return key(t.kind, 0, t.irq());
  }
  return std::nullopt;
}

bool JournalTargets::has(const Target& t) const {
  const auto k = key_of(t);
  if (!k) return false;
  if (const auto n = narrow(*k)) return std::binary_search(keys_.begin(), keys_.end(), *n);
  return std::binary_search(wide_keys_.begin(), wide_keys_.end(), *k);
}

Result<Journal> Journal::load(const std::string& dir, const JournalContext& ctx, bool keep_originals) {
  Journal j;
  j.path_ = dir + "/journal.json";
  j.ctx_ = ctx;
  remove_stale_temp_files(j.path_);
  // The journal holds the only copy of what revert restores: never replaced, only reported.
  const auto unreadable = [&](const std::string& message) {
    return make_error(j.path_, message,
                      "nothing was written; it holds the values revert restores: keep a copy, then mend it, or "
                      "remove it and give those values up");
  };
  std::optional<Result<JournalFile>> read;
  {
    auto blocks = FileBlocks::open(j.path_, kMaxJournalBytes);
    if (!blocks) {
      if (blocks.error().code == ENOENT) return j;
      return unreadable(blocks.error().message);
    }
    read = read_plain_journal(*blocks, keep_originals);
  }
  if (!read) {
    // Not as the agent writes it (or a read failed): read whole, by nlohmann's parser if need be.
    auto text = read_small_file(j.path_, kMaxJournalBytes);
    if (!text) return text.error().code == ENOENT ? Result<Journal>(std::move(j)) : unreadable(text.error().message);
    read = parse_journal(*text, /*stream=*/true, keep_originals);
  }
  auto& file = *read;
  if (!file) return unreadable(file.error().message);
  if (j.ctx_.boot_id.empty()) j.ctx_.boot_id = file->boot_id;
  const bool earlier_boot = !file->boot_id.empty() && file->boot_id != j.ctx_.boot_id;
  if (earlier_boot) {
    j.stale_.reserve(file->entries.size());
    for (auto& e : file->entries)
      j.stale_.push_back({std::move(e), "recorded in an earlier boot (" + file->boot_id +
                                            "): the kernel reset it at boot, so there is nothing to restore"});
  } else {
    j.entries_ = std::move(file->entries);
  }
  j.stale_in_file_ = !j.stale_.empty();
  j.set_ifindexes(ctx.ifindex);
  return j;
}

const std::vector<uint32_t>& Journal::by_target() const {
  if (!indexed_) {
    by_target_ = in_target_order(entries_);
    indexed_ = true;
  }
  return by_target_;
}

bool Journal::has(const Target& target) const {
  const auto& index = by_target();
  auto it = std::lower_bound(index.begin(), index.end(), target,
                             [&](uint32_t i, const Target& t) { return target_less(entries_[i], t); });
  return it != index.end() && same_target(entries_[*it], target);
}

unsigned Journal::ifindex_now(const std::string& nic) const {
  auto it = ctx_.ifindex.find(nic);
  return it == ctx_.ifindex.end() ? 0 : it->second;
}

void Journal::make_stale(const std::string& nic, const std::string& why) {
  auto it = std::stable_partition(entries_.begin(), entries_.end(), [&](const JournalEntry& e) { return e.nic != nic; });
  if (it != entries_.end()) drop_index();
  for (auto s = it; s != entries_.end(); ++s) {
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

Result<void> Journal::record(std::vector<JournalEntry> entries) {
  if (entries.empty()) return {};
  by_target();
  // An entry is new when neither the journal nor an earlier entry of this batch has its target
  // (the batch in target order, equal targets in their order: the first of them is new).
  std::vector<uint32_t> order = in_target_order(entries);
  std::vector<bool> is_new(entries.size());
  for (size_t k = 0; k < order.size(); ++k) {
    const JournalEntry& t = entries[order[k]];
    is_new[order[k]] = (k == 0 || !same_target(entries[order[k - 1]], t)) && !has(t);
  }
  order = {};
  // The new entries, in order, gathered at the front of the caller's vector; on the first apply
  // of a boot the journal takes that vector as it is (no second copy of every entry).
  size_t fresh = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!is_new[i]) continue;
    JournalEntry& e = entries[i];
    e.ifindex = e.nic.empty() ? 0 : ifindex_now(e.nic.str());
    if (i != fresh) entries[fresh] = std::move(e);
    ++fresh;
  }
  if (fresh == 0) return {};
  entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(fresh), entries.end());
  const size_t before = entries_.size();
  if (entries_.empty()) {
    entries_ = std::move(entries);
  } else {
    entries_.reserve(entries_.size() + entries.size());
    std::move(entries.begin(), entries.end(), std::back_inserter(entries_));
  }
  // The index of the new entries, merged into the old.
  for (size_t i = before; i < entries_.size(); ++i) by_target_.push_back(static_cast<uint32_t>(i));
  const auto old_end = by_target_.begin() + static_cast<std::ptrdiff_t>(before);
  std::sort(old_end, by_target_.end(), by_target_of(entries_));
  std::inplace_merge(by_target_.begin(), old_end, by_target_.end(), by_target_of(entries_));
  return save();
}

Result<void> Journal::forget(const std::vector<const JournalEntry*>& entries) {
  std::vector<bool> drop(entries_.size());
  const std::less<const JournalEntry*> before_it;
  for (const JournalEntry* e : entries)
    if (!before_it(e, entries_.data()) && before_it(e, entries_.data() + entries_.size()))
      drop[static_cast<size_t>(e - entries_.data())] = true;
  const size_t before = entries_.size();
  size_t kept = 0;
  for (size_t i = 0; i < entries_.size(); ++i)
    if (!drop[i]) {
      if (kept != i) entries_[kept] = std::move(entries_[i]);
      ++kept;
    }
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(kept), entries_.end());
  if (entries_.size() != before) drop_index();
  return entries_.size() != before || stale_in_file_ ? save() : Result<void>{};
}

Result<void> Journal::save() {
  // Written onto the temp file a block at a time (20,485 entries, 7.6 MB of text at 16 NICs x 256
  // queues of 1024 CPUs, were held whole at apply's peak); fsynced and renamed as before.
  if (auto r = write_file_atomically(path_, [&](std::ostream& out) { write_json(out, ctx_.boot_id, entries_); }); !r)
    return r;
  stale_in_file_ = false;
  return {};
}

}  // namespace gn
