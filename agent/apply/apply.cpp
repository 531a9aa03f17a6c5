#include "apply.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>

#include "cpuset.h"

namespace gn {

namespace {

bool parse_number(const std::string& s, long long& out) {
  const std::string t(trim(s));
  if (t.empty()) return false;
  char* end = nullptr;
  out = std::strtoll(t.c_str(), &end, 10);
  return *end == '\0';
}

// Whether `current` already holds `wanted` (masks compared as CPU sets, numbers as numbers).
bool same_value(SettingKind kind, const std::string& current, const std::string& wanted) {
  if (is_mask(kind)) {
    auto a = parse_cpumask(current), b = parse_cpumask(wanted);
    return a && b && *a == *b;
  }
  long long x = 0, y = 0;
  if (parse_number(current, x) && parse_number(wanted, y)) return x == y;
  return trim(current) == trim(wanted);
}

// Whether what the kernel kept after writing `written` is what it makes of it: offline CPUs
// dropped from masks, flow counts rounded up to powers of two.
bool kernel_kept(SettingKind kind, const std::string& readback, const std::string& written, const CpuSet& online) {
  if (same_value(kind, readback, written)) return true;
  if (is_mask(kind)) {
    auto a = parse_cpumask(readback), b = parse_cpumask(written);
    return a && b && *a == (*b & online);
  }
  long long got = 0, want = 0;
  if ((kind == SettingKind::RpsFlowCnt || kind == SettingKind::Sysctl) && parse_number(readback, got) &&
      parse_number(written, want) && want > 0) {
    long long p = 1;
    while (p < want) p <<= 1;
    return got == p;
  }
  return false;
}

// Parses "combined N" / "rx R tx T" onto the current channels.
Result<Channels> wanted_channels(const Channels& cur, const std::string& text) {
  Channels c = cur;
  unsigned a = 0, b = 0;
  char k1[16] = {}, k2[16] = {};
  if (std::sscanf(text.c_str(), "combined %u", &a) == 1) {
    c.combined = a;
    return c;
  }
  if (std::sscanf(text.c_str(), "%15s %u %15s %u", k1, &a, k2, &b) == 4 && std::string(k1) == "rx" &&
      std::string(k2) == "tx") {
    c.rx = a;
    c.tx = b;
    return c;
  }
  return make_error("", "cannot read channel counts '" + text + "'");
}

std::string nic_dir(const std::string& nic) { return paths::kNetClass + "/" + nic; }

class Applier {
 public:
  explicit Applier(ApplyContext& ctx) : ctx_(ctx) { report_.dry_run = ctx.dry_run; }

  // Phase A reads every NIC and journals, in one durable update, every original that phase B
  // may change; phase B writes NIC by NIC (channels first), rolling a NIC back on failure.
  Result<ApplyReport> run(const Plan& plan) {
    std::vector<Group> groups;
    for (const auto& s : plan.settings) {
      auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) { return g.nic == s.nic; });
      if (it == groups.end()) it = groups.insert(groups.end(), Group{s.nic, {}, nullptr, {}, {}, {}, false});
      it->settings.push_back(&s);
    }
    // Global sysctls ("" NIC) last.
    std::stable_partition(groups.begin(), groups.end(), [](const Group& g) { return !g.nic.empty(); });

    std::vector<JournalEntry> originals;
    for (auto& g : groups) read_group(g, originals);
    if (ctx_.dry_run) return std::move(report_);
    if (auto r = ctx_.journal->record(originals); !r) return r.error();
    for (auto& g : groups) write_group(g);
    return std::move(report_);
  }

 private:
  struct Pending {
    const Setting* setting;
    std::string current;
  };
  struct Group {
    std::string nic;
    std::vector<const Setting*> settings;
    const Setting* channels;       // a channel change to make, or nullptr
    Channels channels_now, channels_want;
    std::vector<Pending> pending;  // without a channel change: the writes to make
    bool failed;
  };
  struct Done {
    const Setting* setting;
    std::string before;  // value read just before writing: what a rollback restores
  };

  void fail(const std::string& nic, const std::string& target, const Error& e) {
    std::string hint = e.hint;
    if (hint.empty() && (e.code == EACCES || e.code == EPERM)) hint = "run as root";
    if (!nic.empty() && !ctx_.root.exists(nic_dir(nic)))
      report_.errors.push_back({nic, target, nic + " disappeared during apply: " + e.text(),
                                "nothing to do; its journal entries are kept for revert"});
    else
      report_.errors.push_back({nic, target, e.text(), hint.empty() ? "see the error; `revert` restores the originals" : hint});
  }

  void mark_failed(Group& g) {
    g.failed = true;
    report_.failed_nics.push_back(g.nic.empty() ? "sysctls" : g.nic);
  }

  // Journal entries for every queue file of the NIC and its planned IRQs, read before a
  // channel change: the driver rewrites XPS and IRQ affinity on `ethtool -L` and removed
  // queues lose their settings, so their values from before must be kept now.
  void before_channel_change(const Group& g, std::vector<JournalEntry>& out) {
    if (ctx_.dry_run) return;
    const auto add = [&](const SysFile& f, SettingKind kind) {
      if (f.readable() && !ctx_.journal->has(f.path)) out.push_back({f.path, kind, g.nic, *f.text});
    };
    // The probe read them moments ago under the same lock.
    const Nic* nic = ctx_.facts ? ctx_.facts->find_nic(g.nic) : nullptr;
    if (nic == nullptr) return;
    for (const auto& t : nic->tx) add(t.xps_cpus, SettingKind::Xps);
    for (const auto& r : nic->rx) {
      add(r.rps_cpus, SettingKind::RpsCpus);
      add(r.rps_flow_cnt, SettingKind::RpsFlowCnt);
    }
    for (const auto& irq : nic->irqs) add(irq.smp_affinity, SettingKind::IrqAffinity);
  }

  // Phase A for one NIC (or the sysctls): what differs now, and the originals to journal.
  void read_group(Group& g, std::vector<JournalEntry>& originals) {
    for (const Setting* s : g.settings) {
      if (s->action == Action::Skip) report_.not_applicable.push_back({s->nic, s->target, s->reason});
      if (s->kind != SettingKind::Channels || s->action == Action::Skip) continue;
      auto now = ctx_.ethtool.channels(g.nic);
      auto want = now ? wanted_channels(*now, s->desired) : Result<Channels>(now.error());
      if (!want) {
        fail(g.nic, s->target, want.error());
        mark_failed(g);
        return;
      }
      if (*want == *now) {
        report_.unchanged.push_back(s->target);
        continue;
      }
      g.channels = s;
      g.channels_now = *now;
      g.channels_want = *want;
      if (ctx_.dry_run) report_.writes.push_back({g.nic, s->target, s->kind, channels_setting_text(*now), s->desired});
      else originals.push_back({s->target, s->kind, g.nic, channels_journal_text(*now)});
    }
    if (g.channels) {
      // Queue values are read again after the change; keep what is there now.
      before_channel_change(g, originals);
      if (ctx_.dry_run)
        for (const Setting* s : g.settings)
          if (s->action == Action::Write && s->kind != SettingKind::Channels)
            report_.writes.push_back({g.nic, s->target, s->kind, s->current, s->desired});
      return;
    }
    for (const Setting* s : g.settings) {
      if (s->action == Action::Skip || s->kind == SettingKind::Channels) continue;
      if (s->action == Action::Keep) {
        // Read under the lock moments ago and nothing changed channels since.
        report_.unchanged.push_back(s->target);
        continue;
      }
      auto cur = ctx_.root.read(s->target);
      if (!cur) {
        fail(g.nic, s->target, cur.error());
        mark_failed(g);
        g.pending.clear();
        return;
      }
      const std::string now(trim(*cur));
      if (same_value(s->kind, now, s->desired)) {
        report_.unchanged.push_back(s->target);
        continue;
      }
      g.pending.push_back({s, now});
      if (ctx_.dry_run) report_.writes.push_back({g.nic, s->target, s->kind, now, s->desired});
      else originals.push_back({s->target, s->kind, g.nic, now});
    }
  }

  // Phase B for one NIC: channels, then the queue files as they are after them, then IRQs.
  void write_group(Group& g) {
    if (g.failed) return;
    std::vector<Done> done;
    if (g.channels) {
      const Setting& s = *g.channels;
      if (auto r = ctx_.ethtool.set_channels(g.nic, g.channels_want); !r) {
        fail(g.nic, s.target, r.error());
        mark_failed(g);
        return;
      }
      done.push_back({&s, channels_journal_text(g.channels_now)});
      auto after = ctx_.ethtool.channels(g.nic);
      if (!after || !(*after == g.channels_want)) {
        fail(g.nic, s.target, after ? make_error(g.nic, "channels read back as " + channels_setting_text(*after) +
                                                            " after setting " + s.desired)
                                    : after.error());
        return rollback(g, done);
      }
      report_.writes.push_back({g.nic, s.target, s.kind, channels_setting_text(g.channels_now), s.desired});
      // The driver may have rewritten masks and IRQs, and queues came or went: read again.
      for (const Setting* q : g.settings) {
        if (q->action == Action::Skip || q->kind == SettingKind::Channels) continue;
        auto cur = ctx_.root.read(q->target);
        if (!cur) {
          fail(g.nic, q->target, cur.error());
          return rollback(g, done);
        }
        const std::string now(trim(*cur));
        if (same_value(q->kind, now, q->desired)) report_.unchanged.push_back(q->target);
        else g.pending.push_back({q, now});
      }
    }
    for (const auto& p : g.pending) {
      const Setting& s = *p.setting;
      auto r = write_value(s.kind, s.target, p.current, s.desired);
      if (!r && s.kind == SettingKind::IrqAffinity && r.error().code == EIO) {
        report_.not_applicable.push_back({g.nic, s.target, "kernel-managed IRQ: the kernel refuses affinity writes (EIO)"});
        continue;
      }
      if (!r) {
        fail(g.nic, s.target, r.error());
        return rollback(g, done);
      }
      report_.writes.push_back({g.nic, s.target, s.kind, p.current, s.desired});
      done.push_back({&s, p.current});
    }
  }

  // Writes `value` in the layout of `current`, then checks what the kernel kept.
  Result<void> write_value(SettingKind kind, const std::string& target, const std::string& current,
                           const std::string& value) {
    std::string text = value;
    if (is_mask(kind)) {
      auto set = parse_cpumask(value);
      if (!set) return make_error(ctx_.root.display(target), set.error().message);
      auto like = format_cpumask_like(*set, current);
      if (!like) return make_error(ctx_.root.display(target), like.error().message);
      text = *like;
    }
    if (auto w = ctx_.writer.write(target, text); !w) return w;
    auto back = ctx_.root.read(target);
    if (!back) return back.error();
    if (!kernel_kept(kind, *back, text, ctx_.online))
      return make_error(ctx_.root.display(target),
                        "the kernel kept '" + std::string(trim(*back)) + "' after writing '" + text + "'");
    return {};
  }

  // Undoes this run's writes on the NIC, newest first.
  void rollback(Group& g, std::vector<Done>& done) {
    mark_failed(g);
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
      const Setting& s = *it->setting;
      Result<void> r;
      if (s.kind == SettingKind::Channels) {
        auto cur = ctx_.ethtool.channels(g.nic);
        auto want = cur ? parse_channels_journal_text(it->before, *cur) : Result<Channels>(cur.error());
        r = want ? ctx_.ethtool.set_channels(g.nic, *want) : Result<void>(want.error());
      } else {
        auto cur = ctx_.root.read(s.target);
        r = cur ? write_value(s.kind, s.target, std::string(trim(*cur)), it->before) : Result<void>(cur.error());
      }
      if (r) {
        report_.rolled_back.push_back({g.nic, s.target, s.kind, s.desired, it->before});
        auto w = std::find_if(report_.writes.begin(), report_.writes.end(),
                              [&](const WriteRecord& x) { return x.target == s.target; });
        if (w != report_.writes.end()) report_.writes.erase(w);
      } else {
        report_.errors.push_back({g.nic, s.target, "rolling back: " + r.error().text(),
                                  "the journal keeps the original: run `guest-nettune revert`"});
      }
    }
    done.clear();
  }

  ApplyContext& ctx_;
  ApplyReport report_;
};

int revert_rank(SettingKind k) {
  switch (k) {
    case SettingKind::Channels: return 0;
    case SettingKind::RpsCpus:
    case SettingKind::RpsFlowCnt: return 1;
    case SettingKind::Xps: return 2;
    case SettingKind::IrqAffinity: return 3;
    case SettingKind::Sysctl: return 4;
  }
  return 5;
}

}  // namespace

Result<ApplyReport> apply_plan(const Plan& plan, ApplyContext& ctx) { return Applier(ctx).run(plan); }

Result<RevertReport> revert_journal(Journal& journal, const std::vector<std::string>& nics, ApplyContext& ctx) {
  RevertReport rep;
  rep.dry_run = ctx.dry_run;
  std::vector<JournalEntry> todo;
  for (const auto& e : journal.entries())
    if (nics.empty() || std::find(nics.begin(), nics.end(), e.nic) != nics.end()) todo.push_back(e);
  std::stable_sort(todo.begin(), todo.end(),
                   [](const JournalEntry& a, const JournalEntry& b) { return revert_rank(a.kind) < revert_rank(b.kind); });
  std::vector<std::string> forget;
  std::map<std::string, bool> present;  // NIC → still there (asked once per NIC, not per entry)
  for (const auto& e : todo) {
    if (!e.nic.empty() && !present.count(e.nic)) present[e.nic] = ctx.root.exists(nic_dir(e.nic));
    const bool nic_gone = !e.nic.empty() && !present[e.nic];
    if (nic_gone) {
      rep.gone.push_back({e.nic, e.target, e.nic + " no longer exists"});
      forget.push_back(e.target);
      continue;
    }
    if (e.kind == SettingKind::Channels) {
      auto cur = ctx.ethtool.channels(e.nic);
      auto want = cur ? parse_channels_journal_text(e.original, *cur) : Result<Channels>(cur.error());
      if (!want) {
        rep.errors.push_back({e.nic, e.target, want.error().text(), "the entry stays in the journal"});
        continue;
      }
      if (*want == *cur) {
        rep.unchanged.push_back(e.target);
        forget.push_back(e.target);
        continue;
      }
      if (!ctx.dry_run) {
        if (auto r = ctx.ethtool.set_channels(e.nic, *want); !r) {
          rep.errors.push_back({e.nic, e.target, r.error().text(), "the entry stays in the journal"});
          continue;
        }
      }
      rep.writes.push_back({e.nic, e.target, e.kind, channels_setting_text(*cur), channels_setting_text(*want)});
      forget.push_back(e.target);
      continue;
    }
    auto cur = ctx.root.read(e.target);
    if (!cur) {
      if (cur.error().code == ENOENT && !e.nic.empty()) {
        // A queue that only existed while our channel count was in force.
        rep.gone.push_back({e.nic, e.target, "the queue is gone with the channel count it came with"});
        forget.push_back(e.target);
      } else {
        rep.errors.push_back({e.nic, e.target, cur.error().text(), "the entry stays in the journal"});
      }
      continue;
    }
    const std::string now(trim(*cur));
    if (now == e.original) {
      rep.unchanged.push_back(e.target);
      forget.push_back(e.target);
      continue;
    }
    if (!ctx.dry_run) {
      if (auto r = ctx.writer.write(e.target, e.original); !r) {
        rep.errors.push_back({e.nic, e.target, r.error().text(), "the entry stays in the journal"});
        continue;
      }
    }
    rep.writes.push_back({e.nic, e.target, e.kind, now, e.original});
    forget.push_back(e.target);
  }
  if (!ctx.dry_run)
    if (auto r = journal.forget(forget); !r) return r.error();
  return rep;
}

}  // namespace gn
