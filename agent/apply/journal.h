// Journal: the value each target had before the agent first touched it in this boot, kept in
// STATE_DIR/journal.json until `revert` restores it. Later applies never overwrite an entry.
//
// Every setting the agent writes is kernel state that the kernel resets at boot, and a NIC's
// queue files and IRQs belong to one device. So an entry is live only in the boot that recorded
// it (the journal keeps the boot id) and only for the same device (each entry keeps its NIC's
// ifindex; a NIC that was unplugged and plugged again, or replaced by the host with one of more
// queues, has a new one). Entries that are not live are "stale": never restored, reported, and
// dropped at the next save. So revert restores exactly the state this boot had, on these
// devices, before the first apply in this boot (docs/revert.md).
//
// The file is input: it is validated whole (format, keys, targets the agent writes, values of
// the right kind) before anything uses it; a file that fails is an error naming it, and nothing
// is written.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "plan.h"
#include "result.h"
#include "shared_text.h"
#include "sysroot.h"

namespace gn {

// An entry: its target as the catalogue types it (kind, NIC, queue, IRQ or sysctl row; path() is
// the file, as the journal's "target" spells it), 40 bytes where two strings of the path and NIC
// took 136 (20k entries at apply's peak on a wide guest). An IRQ's queue is not journalled (-1).
struct JournalEntry : Target {
  JournalEntry() = default;
  JournalEntry(Target t, SharedText original_text, unsigned index = 0)
      : Target(std::move(t)), ifindex(index), original(std::move(original_text)) {}
  // The entry of this target path, checked as load() checks one (a file the agent writes, of
  // this kind and NIC, numbers as the kernel names them: no leading zero).
  static Result<JournalEntry> of(std::string_view path, SettingKind kind, const std::string& nic,
                                 SharedText original, unsigned ifindex = 0);

  unsigned ifindex = 0;  // the NIC's ifindex when recorded; 0 for sysctls, or unknown
  SharedText original;   // the text read before the first write (channels in their one text form; format 1
                         // journals hold "rx R tx T other O combined C", which parse_value reads too),
                         // shared with the probe's copy when apply journals it
};

// Orders targets as their paths are told apart (kind, then NIC and queue, IRQ or sysctl): two
// compare equal exactly when path() is the same file.
bool same_target(const Target& a, const Target& b);
bool target_less(const Target& a, const Target& b);

// An entry that no longer describes this boot's state, and why.
struct StaleEntry {
  JournalEntry entry;
  std::string why;
};

// What the journal file holds, as parsed and validated.
struct JournalFile {
  int format = 2;
  std::string boot_id;  // "" when unknown (format 1, or a system without a boot id)
  std::vector<JournalEntry> entries;
};

// The identity of the running system that decides which entries are live.
struct JournalContext {
  std::string boot_id;                      // "" when unknown: entries are not judged by boot
  std::map<std::string, unsigned> ifindex;  // NIC → its ifindex now (absent or 0: unknown)
};

// The targets of a journal's live entries, as `status` counts them and asks of each drifted
// setting: 4 bytes a target (its kind, its NIC where the path names one, and its queue, IRQ or
// sysctl; 8 for what does not fit). The entries would keep a wide guest's status 3 MB larger
// while it probes and plans (16 NICs x 256 queues of 1024 CPUs: 20k targets).
class JournalTargets {
 public:
  JournalTargets() = default;
  // The targets of these entries, which load() has checked (check_target: a file the agent
  // writes, of the entry's kind and NIC).
  explicit JournalTargets(const std::vector<JournalEntry>& entries);
  size_t size() const { return size_; }
  // Whether the journal holds t: exactly when it holds an entry whose target is t.path().
  bool has(const Target& t) const;

 private:
  std::optional<uint64_t> key_of(const Target& t) const;
  std::optional<uint64_t> key(SettingKind kind, size_t nic, unsigned long number) const;
  static std::optional<uint32_t> narrow(uint64_t key);
  size_t nic_index(std::string_view nic) const;      // nics_.size() when absent
  static constexpr uint64_t kNoNic = 0xffffff;       // in a key: a path that names no NIC
  std::map<std::string, size_t, std::less<>> nics_;  // each NIC of the entries, and its place
  std::vector<uint32_t> keys_;                       // sorted, narrow()ed
  std::vector<uint64_t> wide_keys_;                  // sorted, the keys that do not narrow
  size_t size_ = 0;                                  // every entry, with or without a key
};

class Journal {
 public:
  // Reads DIR/journal.json (an absent file is an empty journal), validates it, and splits its
  // entries into live and stale for this context. A file that fails validation is an error
  // naming it: it is never silently replaced.
  static Result<Journal> load(const std::string& dir, const JournalContext& ctx = {});
  // load() for the system under root: entries of an earlier boot, or of a NIC that is another
  // device now (its ifindex read for each NIC the journal names), are stale.
  static Result<Journal> load(const std::string& dir, const SysRoot& root);
  // The targets of the live entries only (what `status` counts and looks up), read with the same
  // validation and the same live and stale rules as load(), without keeping any original: a
  // journal of a wide guest holds megabytes of them. No Journal is left, so nothing can save it.
  static Result<JournalTargets> live_targets(const std::string& dir, const JournalContext& ctx);
  static Result<JournalTargets> live_targets(const std::string& dir, const SysRoot& root);

  const std::string& path() const { return path_; }
  const std::vector<JournalEntry>& entries() const { return entries_; }  // live only
  const std::vector<StaleEntry>& stale() const { return stale_; }
  bool has(const Target& target) const;
  // The ifindex of this NIC now, as the context gave it (0: unknown).
  unsigned ifindex_now(const std::string& nic) const;

  // Sets the ifindex of NICs learned after loading (apply knows every NIC it plans), moving the
  // entries of a NIC whose device changed to stale.
  void set_ifindexes(const std::map<std::string, unsigned>& now);

  // Adds the entries whose target is not in the journal yet (stamped with this boot and their
  // NIC's ifindex) and saves (atomically) if any was new; stale entries go with that save.
  // Existing entries are kept as they are: the first original wins.
  Result<void> record(std::vector<JournalEntry> entries);
  // Drops these entries (of entries()) and every stale entry, and saves.
  Result<void> forget(const std::vector<const JournalEntry*>& entries);

  static std::string to_json(const JournalFile& file);
  static std::string to_json(const std::string& boot_id, const std::vector<JournalEntry>& entries);
  // The same bytes as to_json, written onto `out` a block at a time (what save() writes).
  static void write_json(std::ostream& out, const std::string& boot_id, const std::vector<JournalEntry>& entries);
  // The entries in a journal of unknown boot (for tools and fuzzing).
  static std::string to_json(const std::vector<JournalEntry>& entries);
  // Parses and validates: errors say which entry and what is wrong with it.
  static Result<JournalFile> parse(const std::string& text);
  // The entries only (for tools and fuzzing); the same validation as parse().
  static Result<std::vector<JournalEntry>> from_json(const std::string& text);

 private:
  static Result<Journal> load(const std::string& dir, const JournalContext& ctx, bool keep_originals);
  static Result<Journal> load(const std::string& dir, const SysRoot& root, bool keep_originals);
  Result<void> save();
  void make_stale(const std::string& nic, const std::string& why);
  std::string path_;
  JournalContext ctx_;
  std::vector<JournalEntry> entries_;
  std::vector<StaleEntry> stale_;
  bool stale_in_file_ = false;  // the file still holds stale entries: the next save drops them
  // The positions of entries_ in the order of their targets, built when first asked for (has,
  // record; a revert never needs it) and dropped when entries leave: four bytes an entry, where a
  // set of the targets held a second copy of every path (20k of them on a wide guest).
  const std::vector<uint32_t>& by_target() const;
  mutable std::vector<uint32_t> by_target_;
  mutable bool indexed_ = false;
  void drop_index() const {
    by_target_ = {};
    indexed_ = false;
  }
};

// The running kernel's boot id (ROOT/proc/sys/kernel/random/boot_id), "" when it cannot be read
// or is not a UUID (a snapshot without it).
std::string read_boot_id(const SysRoot& root);
// A NIC's ifindex (ROOT/sys/class/net/NIC/ifindex), 0 when it cannot be read.
unsigned read_ifindex(const SysRoot& root, const std::string& nic);

}  // namespace gn
