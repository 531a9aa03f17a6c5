// Apply (the only code that writes) and revert. Each target is read again first and written
// only when it differs; originals go to the journal, durably, before anything is written.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ethtool.h"
#include "facts.h"
#include "journal.h"
#include "plan.h"
#include "sysroot.h"

namespace gn {

// Where file writes go: the SysRoot in production, a fault-injecting fake in tests.
class SysWriter {
 public:
  virtual ~SysWriter() = default;
  virtual Result<void> write(const std::string& rel, const std::string& text) = 0;
  // Reads the file, writes what `text_for` says (if anything) and reads it back. This default
  // goes through write() and `root`'s reads; RootWriter does it all on one open file, and with
  // `read_before` (what the probe read, see SysRoot::rewrite) on the file the probe kept open.
  virtual Result<SysRoot::Rewrite> rewrite(const SysRoot& root, const std::string& rel,
                                           const SysRoot::TextFor& text_for, const std::string_view* read_before);
};

class RootWriter : public SysWriter {
 public:
  explicit RootWriter(const SysRoot& root) : root_(root) {}
  Result<void> write(const std::string& rel, const std::string& text) override { return root_.write(rel, text); }
  Result<SysRoot::Rewrite> rewrite(const SysRoot& root, const std::string& rel, const SysRoot::TextFor& text_for,
                                   const std::string_view* read_before) override {
    return root.rewrite(rel, text_for, read_before);
  }

 private:
  const SysRoot& root_;
};

struct WriteRecord {
  std::string nic, target;
  SettingKind kind = SettingKind::Sysctl;
  std::string from, to;
};

// A write of a planned setting that apply made (a dry run: would make). The plan outlives the
// report, so the record points at the setting instead of copying its target and texts (at 16
// NICs x 256 queues of 1024 CPUs that is 16k masks of 288 characters, twice): what the file held
// is kept only when it was not what the probe read.
struct PlannedWrite {
  const Setting* setting = nullptr;
  // What the file held, when not setting->current (rare: one pointer, where an optional string
  // took five, for each of 20k writes).
  std::unique_ptr<const std::string> before;

  std::string_view from() const { return before ? std::string_view(*before) : setting->current.view(); }
  // What was (or would be) written: a dry run reports the value's own text; apply wrote masks
  // in the layout of what the file held, as this formats them again.
  std::string to(bool dry_run) const;
};

struct SkipRecord {
  std::string nic, target;
  std::string why;
};

struct FailureRecord {
  std::string nic, target;
  std::string error, hint;
};

struct ApplyReport {
  bool dry_run = false;
  std::vector<PlannedWrite> writes;       // performed (a dry run: would be)
  std::vector<std::string> unchanged;     // targets that already held the wanted value
  std::vector<SkipRecord> not_applicable;
  std::vector<FailureRecord> errors;
  std::vector<WriteRecord> rolled_back;   // undone because a later write on the NIC failed
  std::vector<std::string> failed_nics;
};

struct ApplyContext {
  const SysRoot& root;
  EthtoolIo& ethtool;
  SysWriter& writer;
  Journal* journal;  // nullptr in a dry run
  CpuSet online;     // the kernel drops offline CPUs from masks it stores
  bool dry_run = false;
  const Facts* facts = nullptr;  // what the probe read under the same lock (apply only)
  // Called when apply no longer reads `facts` (once it has read what differs, before the journal's
  // save and the writes): the caller may let them go. The plan keeps what it uses of them (the
  // texts it shares), and a wide guest's Facts are more than a megabyte at apply's peak.
  std::function<void()> facts_done = nullptr;
};

// Fails (as a whole) only when the journal cannot be written; per-setting failures are in the
// report, their NIC rolled back. The report's writes point into `plan`: keep it while the report
// is used.
Result<ApplyReport> apply_plan(const Plan& plan, ApplyContext& ctx);

struct RevertReport {
  std::vector<WriteRecord> writes;      // originals written back
  std::vector<std::string> unchanged;   // already held the original
  std::vector<SkipRecord> gone;         // queue or NIC no longer there: forgotten
  std::vector<SkipRecord> stale;        // from an earlier boot or a replaced NIC: dropped, not restored
  std::vector<FailureRecord> errors;    // kept in the journal
  bool dry_run = false;
};

// Restores the journal's originals (channels first, then queue masks, IRQs, sysctls) for the
// given NICs (all, and the sysctls, when empty), then forgets what was restored.
Result<RevertReport> revert_journal(Journal& journal, const std::vector<std::string>& nics, ApplyContext& ctx);

}  // namespace gn
