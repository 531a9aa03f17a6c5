#include "apply.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>

#include "cpuset.h"

namespace gn {

namespace {

bool is_mask(SettingKind k) {
  return k == SettingKind::Xps || k == SettingKind::RpsCpus || k == SettingKind::IrqAffinity;
}

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

  Result<ApplyReport> run(const Plan& plan) {
    // Settings grouped by NIC in plan order; global sysctls ("" NIC) last.
    std::vector<std::string> order;
    std::map<std::string, std::vector<const Setting*>> groups;
    for (const auto& s : plan.settings) {
      if (!groups.count(s.nic)) order.push_back(s.nic);
      groups[s.nic].push_back(&s);
    }
    std::stable_partition(order.begin(), order.end(), [](const std::string& n) { return !n.empty(); });
    for (const auto& nic : order)
      if (auto r = apply_group(nic, groups[nic]); !r) return r.error();
    return std::move(report_);
  }

 private:
  struct Done {
    const Setting* setting;
    std::string before;  // value read just before writing: what a rollback restores
  };
  struct Pending {
    const Setting* setting;
    std::string current;
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

  // Journal entries for every queue file of the NIC and its planned IRQs, read before a
  // channel change: the driver rewrites XPS and IRQ affinity on `ethtool -L` and removed
  // queues lose their settings, so their values from before must be kept now.
  std::vector<JournalEntry> before_channel_change(const std::string& nic, const std::vector<const Setting*>& group) {
    std::vector<JournalEntry> out;
    const auto add = [&](const std::string& rel, SettingKind kind) {
      if (ctx_.journal->has(rel)) return;
      auto t = ctx_.root.read(rel);
      if (t) out.push_back({rel, kind, nic, std::string(trim(*t))});
    };
    const std::string q = nic_dir(nic) + "/queues";
    if (auto entries = ctx_.root.list(q)) {
      for (const auto& e : *entries) {
        if (e.name.rfind("tx-", 0) == 0) add(q + "/" + e.name + "/xps_cpus", SettingKind::Xps);
        if (e.name.rfind("rx-", 0) == 0) {
          add(q + "/" + e.name + "/rps_cpus", SettingKind::RpsCpus);
          add(q + "/" + e.name + "/rps_flow_cnt", SettingKind::RpsFlowCnt);
        }
      }
    }
    for (const Setting* s : group)
      if (s->kind == SettingKind::IrqAffinity && s->action != Action::Skip) add(s->target, s->kind);
    return out;
  }

  Result<void> apply_group(const std::string& nic, const std::vector<const Setting*>& group) {
    std::vector<Done> done;
    std::vector<Pending> pending;
    for (const Setting* s : group) {
      if (s->action == Action::Skip) {
        report_.not_applicable.push_back({s->nic, s->target, s->reason});
        continue;
      }
      if (s->kind != SettingKind::Channels) {
        // Read again now: the driver may have changed it since the probe (or after our channels).
        auto cur = ctx_.root.read(s->target);
        if (!cur) {
          fail(nic, s->target, cur.error());
          rollback(nic, done);
          return {};
        }
        const std::string now(trim(*cur));
        if (same_value(s->kind, now, s->desired)) report_.unchanged.push_back(s->target);
        else pending.push_back({s, now});
        continue;
      }
      // Channels first, on their own: queue directories appear and vanish with them.
      auto chan_cur = ctx_.ethtool.channels(nic);
      auto want = chan_cur ? wanted_channels(*chan_cur, s->desired) : Result<Channels>(chan_cur.error());
      if (!want) {
        fail(nic, s->target, want.error());
        return {};
      }
      const std::string original = channels_journal_text(*chan_cur);
      const std::string* cur = &original;
      if (*want == *chan_cur) {
        report_.unchanged.push_back(s->target);
        continue;
      }
      if (ctx_.dry_run) {
        report_.writes.push_back({nic, s->target, s->kind, channels_setting_text(*chan_cur), s->desired});
        continue;
      }
      std::vector<JournalEntry> entries = {{s->target, s->kind, nic, *cur}};
      auto queues = before_channel_change(nic, group);
      entries.insert(entries.end(), queues.begin(), queues.end());
      if (auto r = ctx_.journal->record(entries); !r) return r.error();
      if (auto r = ctx_.ethtool.set_channels(nic, *want); !r) {
        fail(nic, s->target, r.error());
        return {};
      }
      auto after = ctx_.ethtool.channels(nic);
      if (!after || !(*after == *want)) {
        fail(nic, s->target, after ? make_error(nic, "channels read back as " + channels_setting_text(*after) +
                                                         " after setting " + s->desired)
                                   : after.error());
        done.push_back({s, *cur});
        rollback(nic, done);
        return {};
      }
      report_.writes.push_back({nic, s->target, s->kind, channels_setting_text(*chan_cur), s->desired});
      done.push_back({s, *cur});
    }
    if (pending.empty()) return {};
    if (ctx_.dry_run) {
      for (const auto& p : pending) report_.writes.push_back({nic, p.setting->target, p.setting->kind, p.current, p.setting->desired});
      return {};
    }
    // One durable journal update for the whole group, before its first write.
    std::vector<JournalEntry> entries;
    for (const auto& p : pending) entries.push_back({p.setting->target, p.setting->kind, nic, p.current});
    if (auto r = ctx_.journal->record(entries); !r) {
      rollback(nic, done);
      return r.error();
    }
    for (const auto& p : pending) {
      const Setting& s = *p.setting;
      auto r = write_value(s.kind, s.target, p.current, s.desired);
      if (!r && s.kind == SettingKind::IrqAffinity && r.error().code == EIO) {
        report_.not_applicable.push_back({nic, s.target, "kernel-managed IRQ: the kernel refuses affinity writes (EIO)"});
        continue;
      }
      if (!r) {
        fail(nic, s.target, r.error());
        rollback(nic, done);
        return {};
      }
      report_.writes.push_back({nic, s.target, s.kind, p.current, s.desired});
      done.push_back({&s, p.current});
    }
    return {};
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

  void rollback(const std::string& nic, std::vector<Done>& done) {
    report_.failed_nics.push_back(nic.empty() ? "sysctls" : nic);
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
      const Setting& s = *it->setting;
      Result<void> r;
      if (s.kind == SettingKind::Channels) {
        auto cur = ctx_.ethtool.channels(nic);
        auto want = cur ? parse_channels_journal_text(it->before, *cur) : Result<Channels>(cur.error());
        r = want ? ctx_.ethtool.set_channels(nic, *want) : Result<void>(want.error());
      } else {
        auto cur = ctx_.root.read(s.target);
        r = cur ? write_value(s.kind, s.target, std::string(trim(*cur)), it->before) : Result<void>(cur.error());
      }
      if (r) {
        report_.rolled_back.push_back({nic, s.target, s.kind, s.desired, it->before});
        auto w = std::find_if(report_.writes.begin(), report_.writes.end(),
                              [&](const WriteRecord& x) { return x.target == s.target; });
        if (w != report_.writes.end()) report_.writes.erase(w);
      } else {
        report_.errors.push_back({nic, s.target, "rolling back: " + r.error().text(),
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
  for (const auto& e : todo) {
    const bool nic_gone = !e.nic.empty() && !ctx.root.exists(nic_dir(e.nic));
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
