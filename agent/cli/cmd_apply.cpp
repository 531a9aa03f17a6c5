// `apply` and `revert`: lock, probe, plan, write (or restore), report.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

#include "apply.h"
#include "apply_render.h"
#include "commands.h"
#include "durable_file.h"
#include "exit_codes.h"
#include "plan.h"
#include "probe.h"
#include "run_lock.h"
#include "session.h"

namespace gn {

namespace {

std::string lock_path(const CliOptions& o) { return o.run_dir + "/guest-nettune.lock"; }

// Takes the run lock, or says why not (exit code in `code`).
std::optional<RunLock> take_lock(const CliOptions& o, int& code) {
  auto lock = RunLock::acquire(lock_path(o), o.wait_seconds);
  if (lock) return std::move(*lock);
  spdlog::error("{}", lock.error().text());
  code = lock.error().code == ETIMEDOUT ? exit_code::kLockTimeout : exit_code::kFailed;
  return std::nullopt;
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
  if (const int failed = probe_and_plan(o, s)) return failed;
  const Plan& plan = *s.plan;
  if (!o.dry_run && !may_write) {
    if (plan.count(Action::Write) == 0) return exit_code::kOk;
    spdlog::error("{} settings need writing and only root may write them (run as root, or --dry-run to see them)",
                  plan.count(Action::Write));
    return exit_code::kNotPermitted;
  }
  std::optional<Journal> journal;
  if (!o.dry_run) {
    auto j = Journal::load(o.state_dir);
    if (!j) {
      spdlog::error("{}", j.error().text());
      return exit_code::kFailed;
    }
    journal = std::move(*j);
  }
  RootWriter writer(s.root);
  ApplyContext ctx{s.root, *s.ethtool, writer, journal ? &*journal : nullptr, s.facts->cpus.online, o.dry_run, &*s.facts};
  auto report = apply_plan(plan, ctx);
  if (!report) {
    spdlog::error("{} (nothing more was written)", report.error().text());
    return exit_code::kFailed;
  }
  const std::string result = apply_result(*report);
  const auto doc = apply_json(*report, o.policy, result);
  if (!o.dry_run) {
    if (auto r = write_file_atomically(status_path(o.run_dir), doc.dump(2) + "\n"); !r)
      spdlog::warn("{}, ignoring", r.error().text());
  }
  if (o.json) out << doc.dump(2) << "\n";
  else render_apply_text(out, *report, o.verbose);
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
  auto journal = Journal::load(o.state_dir);
  if (!journal) {
    spdlog::error("{}", journal.error().text());
    return exit_code::kFailed;
  }
  if (!o.dry_run && !s.root.is_snapshot() && ::geteuid() != 0 && !journal->entries().empty()) {
    spdlog::error("restoring {} values needs root (run as root)", journal->entries().size());
    return exit_code::kNotPermitted;
  }
  RootWriter writer(s.root);
  ApplyContext ctx{s.root, *s.ethtool, writer, &*journal, {}, o.dry_run};
  auto report = revert_journal(*journal, o.policy.interfaces, ctx);
  if (!report) {
    spdlog::error("{}", report.error().text());
    return exit_code::kFailed;
  }
  const std::string result = report->errors.empty() ? "ok" : "partial";
  if (o.json) out << revert_json(*report, result).dump(2) << "\n";
  else render_revert_text(out, *report, o.verbose);
  return report->errors.empty() ? exit_code::kOk : exit_code::kPartial;
}

}  // namespace gn

