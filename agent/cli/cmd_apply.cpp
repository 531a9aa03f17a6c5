// `apply` and `revert`: lock, probe, plan, write (or restore), report.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <map>
#include <iostream>
#include <ostream>
#include <set>
#include <streambuf>

#include "apply.h"
#include "apply_render.h"
#include "commands.h"
#include "durable_file.h"
#include "exit_codes.h"
#include "plan.h"
#include "probe.h"
#include "reapply_scope.h"
#include "run_lock.h"
#include "session.h"

namespace gn {

namespace {

// At most this many targets stay open between probe and apply, or after apply or revert wrote
// them (16 NICs x 256 queues x 3 files is 12288; each kept sysfs file holds a page of kernel
// memory until the run ends).
constexpr size_t kKeptTargets = 16384;

std::string lock_path(const CliOptions& o) { return o.run_dir + "/guest-nettune.lock"; }

// Takes the run lock, or says why not (exit code in `code`).
std::optional<RunLock> take_lock(const CliOptions& o, int& code) {
  auto lock = RunLock::acquire(lock_path(o), o.wait_seconds);
  if (lock) return std::move(*lock);
  spdlog::error("{}", lock.error().text());
  code = lock.error().code == ETIMEDOUT ? exit_code::kLockTimeout : exit_code::kFailed;
  return std::nullopt;
}

// The NICs `revert --interface` restores: each named NIC and, for an upper device (bond, bridge,
// team, vlan), the devices below it, as apply expands them. A name that is neither on the system
// nor in the journal is a usage error (as `plan` refuses it), before anything is written.
Result<std::vector<std::string>> revert_selection(const SysRoot& root, const Journal& journal,
                                                  const std::vector<std::string>& names) {
  std::set<std::string> in_journal;
  for (const auto& e : journal.entries())
    if (!e.nic.empty()) in_journal.insert(e.nic.str());
  std::set<std::string> out;
  std::function<void(const std::string&, int)> add = [&](const std::string& name, int depth) {
    if (depth > 8 || !out.insert(name).second) return;
    for (const auto& lower : lower_devices(root, name)) add(lower, depth + 1);
  };
  for (const auto& name : names) {
    if (!root.exists(paths::kNetClass + "/" + name) && !in_journal.count(name)) {
      std::string known;
      if (auto list = root.list(paths::kNetClass))
        for (const auto& e : *list) known += (known.empty() ? "" : ", ") + e.name;
      std::string held;
      for (const auto& n : in_journal) held += (held.empty() ? "" : ", ") + n;
      return make_error("interface '" + name + "'", "no such interface, and the journal " + journal.path() +
                                                        " holds nothing of it (nothing was restored)",
                        "this system has: " + (known.empty() ? std::string("none") : known) +
                            "; the journal holds values of: " + (held.empty() ? std::string("no NIC") : held));
    }
    add(name, 0);
  }
  return std::vector<std::string>(out.begin(), out.end());
}

// Keeps, in an automatic run's plan, only the settings of what the scope allows; returns how
// many settings it took out.
size_t limit_to_scope(Plan& plan, const ReapplyScope& scope) {
  const size_t before = plan.settings.size();
  plan.settings.erase(std::remove_if(plan.settings.begin(), plan.settings.end(),
                                     [&](const Setting& st) {
                                       return st.nic.empty() ? !scope.sysctls : !scope.allows_nic(st.nic.str());
                                     }),
                      plan.settings.end());
  return before - plan.settings.size();
}

// A stream buffer that sends everything to two others. Each keeps its own failure: one that
// fails never cuts the other short (a closed stdout must not truncate the status file).
class TeeBuf : public std::streambuf {
 public:
  TeeBuf(std::streambuf& a, std::streambuf& b) : a_(a), b_(b) {}
  bool second_failed() const { return b_failed_; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    a_.sputn(s, n);
    if (!b_failed_ && b_.sputn(s, n) != n) b_failed_ = true;
    return n;
  }
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
  }

 private:
  std::streambuf& a_;
  std::streambuf& b_;
  bool b_failed_ = false;
};

bool exists_file(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// Reads the scope, changes it, and saves it durably when it changed (or was never written).
Result<void> update_scope(const CliOptions& o, const std::function<void(ReapplyScope&)>& change) {
  auto scope = ReapplyScope::load(o.state_dir);
  // An unreadable scope is replaced by an explicit apply of every NIC; with --interface the rest
  // of it matters.
  if (!scope && !o.policy.interfaces.empty()) return scope.error();
  ReapplyScope next = scope ? *scope : ReapplyScope{};
  change(next);
  if (scope && next == *scope && exists_file(ReapplyScope::path(o.state_dir))) return {};
  return next.save(o.state_dir);
}

}  // namespace

int run_apply(const CliOptions& o, std::ostream& out) {
  int code = exit_code::kOk;
  std::optional<RunLock> lock;
  // Without root nothing can be written: no lock, just say whether writes would be needed.
  const bool may_write = o.root != "/" || ::geteuid() == 0;
  if (!o.dry_run && may_write) {
    lock = take_lock(o, code);
    if (!lock) return code;
  }
  Session s(o);
  // A run that writes opens each target once: the probe keeps what it reads open for apply.
  if (!o.dry_run && may_write) s.root.keep_targets(kKeptTargets);
  if (const int failed = probe_and_plan(o, s, /*plan_only=*/true)) return failed;
  // The boot unit and udev: only what an explicit apply asked for and no revert took back.
  if (o.automatic) {
    auto scope = ReapplyScope::load(o.state_dir);
    if (!scope) {
      spdlog::error("{}", scope.error().text());
      return exit_code::kFailed;
    }
    if (limit_to_scope(*s.plan, *scope) > 0)
      spdlog::info("automatic run: tuning {}", scope->describe());
    if (scope->holds_everything()) {  // nothing to read or write: say so and stop
      if (o.json) print_json(out, [&](JsonOut& j) { write_apply_json(j, ApplyReport{}, o.policy, "ok"); });
      return exit_code::kOk;
    }
  }
  const Plan& plan = *s.plan;
  if (!o.dry_run && !may_write) {
    if (plan.count(Action::Write) == 0) return exit_code::kOk;
    spdlog::error("{} settings need writing and only root may write them (run as root, or --dry-run to see them)",
                  plan.count(Action::Write));
    return exit_code::kNotPermitted;
  }
  std::optional<Journal> journal;
  if (!o.dry_run) {
    auto j = Journal::load(o.state_dir, JournalContext{read_boot_id(s.root), {}});
    if (!j) {
      spdlog::error("{}", j.error().text());
      return exit_code::kFailed;
    }
    journal = std::move(*j);
    std::map<std::string, unsigned> ifindex;
    for (const auto& n : plan.nics) ifindex[n.name] = read_ifindex(s.root, n.name);
    journal->set_ifindexes(ifindex);
    // An explicit apply is the admin asking: automatic runs may tune what it tunes again.
    if (!o.automatic)
      if (auto r = update_scope(o, [&](ReapplyScope& sc) {
            sc.applied(o.policy.interfaces.empty() ? std::vector<std::string>{} : selected_nics(*s.facts, o.policy));
          });
          !r) {
        spdlog::error("{} (nothing was written)", r.error().text());
        return exit_code::kFailed;
      }
  }
  RootWriter writer(s.root);
  ApplyContext ctx{s.root, *s.ethtool, writer, journal ? &*journal : nullptr, s.facts->cpus.online, o.dry_run, &*s.facts,
                   [&s] { s.facts.reset(); }};
  auto report = apply_plan(plan, ctx);
  if (!report) {
    spdlog::error("{} (nothing more was written)", report.error().text());
    return exit_code::kFailed;
  }
  const std::string result = apply_result(*report);
  const auto write_doc = [&](std::ostream& to) {
    print_json(to, [&](JsonOut& j) { write_apply_json(j, *report, o.policy, result); });
  };
  if (!o.dry_run) {
    // The status file and --json get one document, written once onto both (the same time in
    // each), a block at a time: at 16 NICs x 256 queues it is 15 MB.
    if (auto r = replace_file(status_path(o.run_dir),
                              [&](std::ostream& file) {
                                if (!o.json) return write_doc(file);
                                TeeBuf both(*file.rdbuf(), *out.rdbuf());
                                std::ostream tee(&both);
                                write_doc(tee);
                                if (both.second_failed()) out.setstate(std::ios::badbit);
                              });
        !r)
      spdlog::warn("{}, ignoring", r.error().text());
  } else if (o.json) {
    write_doc(out);
  }
  if (!o.json) render_apply_text(out, *report, o.verbose);
  return report->errors.empty() ? exit_code::kOk : exit_code::kPartial;
}

int run_revert(const CliOptions& o, std::ostream& out) {
  int code = exit_code::kOk;
  std::optional<RunLock> lock;
  if (!o.dry_run) {
    lock = take_lock(o, code);
    if (!lock) return code;
  }
  Session s(o);
  // The files restored are closed together at the end (see keep_targets).
  if (!o.dry_run) s.root.keep_targets(kKeptTargets);
  // Entries from an earlier boot or of a NIC that is another device now are stale: dropped,
  // never restored.
  auto journal = Journal::load(o.state_dir, s.root);
  if (!journal) {
    spdlog::error("{}", journal.error().text());
    return exit_code::kFailed;
  }
  std::vector<std::string> nics;  // empty: every NIC, and the sysctls
  if (!o.policy.interfaces.empty()) {
    auto sel = revert_selection(s.root, *journal, o.policy.interfaces);
    if (!sel) {
      spdlog::error("{}", sel.error().text());
      return exit_code::kUsage;
    }
    nics = std::move(*sel);
  }
  auto scope = o.policy.interfaces.empty() ? Result<ReapplyScope>(ReapplyScope{}) : ReapplyScope::load(o.state_dir);
  ReapplyScope held = scope ? *scope : ReapplyScope{};
  held.reverted(nics);
  const bool scope_changes = !scope || !(held == *scope) || !exists_file(ReapplyScope::path(o.state_dir));
  const bool writes = !journal->entries().empty() || !journal->stale().empty() || scope_changes;
  if (!o.dry_run && !s.root.is_snapshot() && ::geteuid() != 0 && writes) {
    spdlog::error("restoring {} values and holding automatic re-apply needs root (run as root)",
                  journal->entries().size());
    return exit_code::kNotPermitted;
  }
  // Held first, durably: the udev re-apply that our own channel change starts (and a revert
  // killed half way) must find the hold.
  if (!o.dry_run && scope_changes)
    if (auto r = held.save(o.state_dir); !r) {
      spdlog::error("{} (nothing was restored)", r.error().text());
      return exit_code::kFailed;
    }
  RootWriter writer(s.root);
  ApplyContext ctx{s.root, *s.ethtool, writer, &*journal, {}, o.dry_run};
  auto report = revert_journal(*journal, nics, ctx);
  if (!report) {
    spdlog::error("{}", report.error().text());
    return exit_code::kFailed;
  }
  for (const auto& st : journal->stale()) report->stale.push_back({st.entry.nic.str(), st.entry.path(), st.why});
  const std::string result = report->errors.empty() ? "ok" : "partial";
  if (o.json) {
    print_json(out, [&](JsonOut& j) { write_revert_json(j, *report, result); });
  } else {
    render_revert_text(out, *report, o.verbose);
    if (!o.dry_run && scope_changes) spdlog::info("automatic re-apply (boot unit, udev) now tunes {}", held.describe());
  }
  return report->errors.empty() ? exit_code::kOk : exit_code::kPartial;
}

}  // namespace gn
