#include "apply.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <map>

#include "cpuset.h"

namespace gn {

Result<SysRoot::Rewrite> SysWriter::rewrite(const SysRoot& root, const std::string& rel,
                                            const SysRoot::TextFor& text_for, const std::string_view* /*read_before*/) {
  SysRoot::Rewrite r;
  auto now = root.read(rel);
  if (!now) return now.error();
  r.before = std::string(trim(*now));
  auto text = text_for(r.before);
  if (!text) return make_error(root.display(rel), text.error().message, text.error().hint, text.error().code);
  if (!*text) {
    r.after = r.before;
    return r;
  }
  if (auto w = write(rel, **text); !w) return w.error();
  r.written = true;
  auto back = root.read(rel);
  if (!back) return back.error();
  r.after = std::string(trim(*back));
  return r;
}

std::string PlannedWrite::to(bool dry_run) const {
  const Value& want = setting->desired;
  if (dry_run || !is_mask(setting->kind)) return want.text();
  // Apply formatted it so from the same two texts (text_to_write): it cannot fail here.
  auto text = format_cpumask_like(want.cpus(), from());
  return text ? std::move(*text) : want.text();
}

namespace {

std::string nic_dir(const std::string& nic) { return paths::kNetClass + "/" + nic; }

// The text to write for `want` into a file that holds `now`: masks in the file's own layout
// (since 5.15 the kernel refuses extra groups with EOVERFLOW); nothing when it already holds it.
Result<std::optional<std::string>> text_to_write(std::string_view now, const Value& want) {
  if (holds(now, want)) return std::optional<std::string>();
  if (want.type() == ValueType::CpuMask || want.type() == ValueType::QueueMask) {
    auto like = format_cpumask_like(want.cpus(), now);
    if (!like) return like.error();
    return std::optional<std::string>(std::move(*like));
  }
  return std::optional<std::string>(want.text());
}

class Applier {
 public:
  explicit Applier(ApplyContext& ctx) : ctx_(ctx) { report_.dry_run = ctx.dry_run; }

  // Phase A decides, from what the probe read under the same lock, what differs and journals,
  // in one durable update, every original that phase B may change; phase B writes NIC by NIC
  // (channels first), each file read, written and read back on one open file, rolling a NIC
  // back on failure.
  Result<ApplyReport> run(const Plan& plan) {
    // The settings of each NIC together, in plan order, the NICs in the order they first come
    // and the global sysctls ("" NIC) last: one pointer a setting, each group a range of them.
    std::vector<Group> groups;
    std::vector<uint32_t> group_of(plan.settings.size());
    for (size_t i = 0; i < plan.settings.size(); ++i) {
      const Setting& s = plan.settings[i];
      auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) { return g.nic == s.nic; });
      if (it == groups.end()) it = groups.insert(groups.end(), Group{s.nic.str(), 0, 0, nullptr, {}, {}, false});
      group_of[i] = static_cast<uint32_t>(it - groups.begin());
      ++it->end;  // its size, for now
    }
    std::vector<uint32_t> place(groups.size());  // each group's place in the order above
    size_t next = 0;
    for (const bool sysctls : {false, true})
      for (size_t k = 0; k < groups.size(); ++k)
        if (groups[k].nic.empty() == sysctls) place[k] = static_cast<uint32_t>(next++);
    std::vector<Group> ordered(groups.size());
    for (size_t k = 0; k < groups.size(); ++k) ordered[place[k]] = std::move(groups[k]);
    size_t at = 0;
    for (auto& g : ordered) g.begin = at, at += g.end, g.end = g.begin;
    by_group_.resize(plan.settings.size());
    for (size_t i = 0; i < plan.settings.size(); ++i) by_group_[ordered[place[group_of[i]]].end++] = &plan.settings[i];
    group_of = {};

    std::vector<JournalEntry> originals;
    originals.reserve(plan.count(Action::Write));
    report_.unchanged.reserve(plan.count(Action::Keep));
    for (auto& g : ordered) read_group(g, originals);
    ctx_.facts = nullptr;
    if (ctx_.facts_done) ctx_.facts_done();
    if (ctx_.dry_run) return std::move(report_);
    const size_t writes = originals.size();
    if (auto r = ctx_.journal->record(std::move(originals)); !r) return r.error();
    report_.writes.reserve(writes);  // after the journal's save, which is the run's peak of memory
    for (auto& g : ordered) write_group(g);
    return std::move(report_);
  }

 private:
  struct Group {
    std::string nic;
    size_t begin, end;        // its settings: by_group_[begin, end)
    const Setting* channels;  // a channel change to make, or nullptr
    Channels channels_now, channels_want;
    bool failed;
  };
  struct Settings {
    const Setting* const* first;
    const Setting* const* last;
    const Setting* const* begin() const { return first; }
    const Setting* const* end() const { return last; }
  };
  Settings settings(const Group& g) const { return {by_group_.data() + g.begin, by_group_.data() + g.end}; }

  // The record of a write from what the file held before it (kept only when not the setting's
  // current).
  static PlannedWrite planned_write(const Setting& s, const std::string& before) {
    if (before == s.current) return {&s, nullptr};
    return {&s, std::make_unique<const std::string>(before)};
  }

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

  // Journal entries for every file of the NIC that a channel change rewrites or removes (the
  // catalogue's channels_reset kinds), as the probe read them moments ago under the same lock.
  void before_channel_change(const Group& g, std::vector<JournalEntry>& out) {
    if (ctx_.dry_run) return;
    const Nic* nic = ctx_.facts ? ctx_.facts->find_nic(g.nic) : nullptr;
    if (nic == nullptr) return;
    const SharedText& name = g.channels->nic;  // the plan's copy, for the targets below
    const auto add = [&](const SysFile& f, Target t) {
      if (!row(t.kind).channels_reset || !f.readable()) return;
      if (!ctx_.journal->has(t)) out.emplace_back(std::move(t), f.text);
    };
    for (const auto* queues : {&nic->rx, &nic->tx})
      for (const auto& q : *queues)
        for (const auto& [kind, f] : q.files) add(f, Target{kind, name, static_cast<int>(q.index), 0, nullptr});
    for (const auto& irq : nic->irqs)
      add(irq.smp_affinity, Target{SettingKind::IrqAffinity, name, irq.queue, irq.irq, nullptr});
  }

  // Phase A for one NIC (or the sysctls): what differs now, and the originals to journal.
  void read_group(Group& g, std::vector<JournalEntry>& originals) {
    const size_t journalled = originals.size(), listed = report_.writes.size();
    for (const Setting* s : settings(g)) {
      if (s->action == Action::Skip) report_.not_applicable.push_back({s->nic.str(), s->path(), std::string(s->reason)});
      if (s->kind != SettingKind::Channels || s->action == Action::Skip) continue;
      auto now = ctx_.ethtool.channels(g.nic);
      if (!now) {
        fail(g.nic, s->path(), now.error());
        mark_failed(g);
        return;
      }
      Channels want = *now;
      const Channels& planned = s->desired.counts();
      want.rx = planned.rx, want.tx = planned.tx, want.other = planned.other, want.combined = planned.combined;
      if (want == *now) {
        report_.unchanged.push_back(s->path());
        continue;
      }
      g.channels = s;
      g.channels_now = *now;
      g.channels_want = want;
      if (ctx_.dry_run) report_.writes.push_back(planned_write(*s, channels_setting_text(*now)));
      else originals.emplace_back(*s, channels_setting_text(*now));
    }
    if (g.channels) {
      // Queue values are read again after the change; keep what is there now.
      before_channel_change(g, originals);
      if (ctx_.dry_run)
        for (const Setting* s : settings(g))
          if (s->action == Action::Write && s->kind != SettingKind::Channels)
            report_.writes.push_back({s, nullptr});
      return;
    }
    for (const Setting* s : settings(g)) {
      if (s->action == Action::Skip || s->kind == SettingKind::Channels) continue;
      if (s->action == Action::Keep) {
        // Read under the lock moments ago and nothing changed channels since.
        report_.unchanged.push_back(s->path());
        continue;
      }
      // Differs from the plan as the probe read it under the lock: phase B reads it again on
      // the file it writes. What could not be read has no original to journal (a NIC removed
      // while the probe read it): the NIC is left alone, as on any failure.
      if (s->current.empty()) {
        fail(g.nic, s->path(), make_error(ctx_.root.display(s->path()), "could not be read when probed",
                                          "nothing of this NIC was written; run apply again"));
        mark_failed(g);
        originals.erase(originals.begin() + static_cast<std::ptrdiff_t>(journalled), originals.end());
        report_.writes.erase(report_.writes.begin() + static_cast<std::ptrdiff_t>(listed), report_.writes.end());
        return;
      }
      if (ctx_.dry_run) report_.writes.push_back({s, nullptr});
      else originals.emplace_back(*s, s->current);
    }
  }

  // Phase B for one NIC: channels, then the queue files as they are after them, then IRQs.
  void write_group(Group& g) {
    if (g.failed) return;
    // This NIC's writes are the report's from here on: a rollback undoes them.
    const size_t first = report_.writes.size();
    if (g.channels) {
      const Setting& s = *g.channels;
      if (auto r = ctx_.ethtool.set_channels(g.nic, g.channels_want); !r) {
        fail(g.nic, s.path(), r.error());
        mark_failed(g);
        return;
      }
      report_.writes.push_back(planned_write(s, channels_setting_text(g.channels_now)));
      auto after = ctx_.ethtool.channels(g.nic);
      if (!after || !(*after == g.channels_want)) {
        fail(g.nic, s.path(), after ? make_error(g.nic, "channels read back as " + channels_setting_text(*after) +
                                                            " after setting " + s.desired.text())
                                    : after.error());
        return rollback(g, first);
      }
    }
    for (const Setting* p : settings(g)) {
      const Setting& s = *p;
      // After a channel change the driver may have rewritten masks and IRQs, and queues came or
      // went: every planned file is read again (on the file it is written through). Without one,
      // the settings phase A found different.
      if (s.kind == SettingKind::Channels || s.action == Action::Skip) continue;
      if (!g.channels && s.action != Action::Write) continue;
      std::string path = s.path();
      std::string written;
      const std::string_view read_before = s.current;
      // Without a channel change the file holds what the probe read from it under the lock,
      // and the probe kept it open: written and read back there. After one, it is read again.
      auto r = ctx_.writer.rewrite(
          ctx_.root, path,
          [&](std::string_view now) {
            auto text = text_to_write(now, s.desired);
            if (text && *text) written = **text;
            return text;
          },
          g.channels ? nullptr : &read_before);
      if (r && r->written && !kernel_kept(s.kept(), r->after, s.desired, ctx_.online))
        r = make_error(ctx_.root.display(path), "the kernel kept '" + r->after + "' after writing '" + written + "'");
      if (!r && s.kind == SettingKind::IrqAffinity && r.error().code == EIO) {
        report_.not_applicable.push_back({g.nic, path, "kernel-managed IRQ: the kernel refuses affinity writes (EIO)"});
        continue;
      }
      if (!r) {
        fail(g.nic, path, r.error());
        return rollback(g, first);
      }
      if (!r->written) {
        report_.unchanged.push_back(std::move(path));
        continue;
      }
      report_.writes.push_back(planned_write(s, r->before));
    }
  }

  // Undoes this run's writes on the NIC (the report's writes from `first`), newest first; the
  // ones undone leave the writes for rolled_back.
  void rollback(Group& g, size_t first) {
    mark_failed(g);
    std::vector<bool> undone(report_.writes.size() - first);
    for (size_t i = report_.writes.size(); i-- > first;) {
      const PlannedWrite& w = report_.writes[i];
      const Setting& s = *w.setting;
      const std::string before(w.from()), path = s.path();
      Result<void> r;
      if (s.kind == SettingKind::Channels) {
        auto cur = ctx_.ethtool.channels(g.nic);
        auto want = cur ? parse_value(ValueType::Channels, before, *cur) : Result<Value>(cur.error());
        r = want ? ctx_.ethtool.set_channels(g.nic, want->counts()) : Result<void>(want.error());
      } else {
        r = restore(ctx_.root, ctx_.writer, s, path, before, ctx_.online);
      }
      if (r) {
        report_.rolled_back.push_back({g.nic, path, s.kind, s.desired.text(), before});
        undone[i - first] = true;
      } else {
        report_.errors.push_back({g.nic, path, "rolling back: " + r.error().text(),
                                  "the journal keeps the original: run `guest-nettune revert`"});
      }
    }
    size_t kept = first;
    for (size_t i = first; i < report_.writes.size(); ++i)
      if (!undone[i - first]) report_.writes[kept++] = std::move(report_.writes[i]);
    report_.writes.erase(report_.writes.begin() + static_cast<std::ptrdiff_t>(kept), report_.writes.end());
  }

 public:
  // Writes back `original` (a kernel file's text, as read before) unless the file holds it,
  // and checks what the kernel kept. Whether anything was written goes to `*wrote`.
  static Result<void> restore(const SysRoot& root, SysWriter& writer, const Target& t, const std::string& path,
                              const std::string& original, const CpuSet& online, bool* wrote = nullptr,
                              std::string* now = nullptr) {
    const auto value = parse_value(row(t.kind).type, original);
    auto r = writer.rewrite(
        root, path,
        [&](std::string_view cur) -> Result<std::optional<std::string>> {
          if (value ? holds(cur, *value) : trim(cur) == original) return std::optional<std::string>();
          return std::optional<std::string>(original);
        },
        /*read_before=*/nullptr);
    if (!r) return r.error();
    if (now) *now = r->before;
    if (wrote) *wrote = r->written;
    if (r->written && r->after != original && !(value && kernel_kept(t.kept(), r->after, *value, online)))
      return make_error(root.display(path), "the kernel kept '" + r->after + "' after writing '" + original + "'");
    return {};
  }

 private:
  ApplyContext& ctx_;
  ApplyReport report_;
  std::vector<const Setting*> by_group_;  // the plan's settings, each group's together
};

}  // namespace

Result<ApplyReport> apply_plan(const Plan& plan, ApplyContext& ctx) { return Applier(ctx).run(plan); }

Result<RevertReport> revert_journal(Journal& journal, const std::vector<std::string>& nics, ApplyContext& ctx) {
  RevertReport rep;
  rep.dry_run = ctx.dry_run;
  std::vector<const JournalEntry*> todo;
  for (const auto& e : journal.entries())
    if (nics.empty() || std::find(nics.begin(), nics.end(), e.nic.str()) != nics.end()) todo.push_back(&e);
  // The catalogue's revert order: channels before the queues they make, sysctls last.
  std::stable_sort(todo.begin(), todo.end(), [](const JournalEntry* a, const JournalEntry* b) {
    return row(a->kind).revert_rank < row(b->kind).revert_rank;
  });
  std::vector<const JournalEntry*> forget;
  forget.reserve(todo.size());
  rep.writes.reserve(todo.size());
  std::map<std::string, bool> present;  // NIC → still there (asked once per NIC, not per entry)
  for (const JournalEntry* ep : todo) {
    const JournalEntry& e = *ep;
    const std::string& nic = e.nic.str();
    std::string path = e.path();
    if (!nic.empty() && !present.count(nic)) present[nic] = ctx.root.exists(nic_dir(nic));
    const bool nic_gone = !nic.empty() && !present[nic];
    if (nic_gone) {
      rep.gone.push_back({nic, std::move(path), nic + " no longer exists"});
      forget.push_back(ep);
      continue;
    }
    if (e.kind == SettingKind::Channels) {
      auto cur = ctx.ethtool.channels(nic);
      auto want = cur ? parse_value(ValueType::Channels, e.original, *cur) : Result<Value>(cur.error());
      if (!want) {
        rep.errors.push_back({nic, std::move(path), want.error().text(), "the entry stays in the journal"});
        continue;
      }
      if (want->counts() == *cur) {
        rep.unchanged.push_back(std::move(path));
        forget.push_back(ep);
        continue;
      }
      if (!ctx.dry_run) {
        if (auto r = ctx.ethtool.set_channels(nic, want->counts()); !r) {
          rep.errors.push_back({nic, std::move(path), r.error().text(), "the entry stays in the journal"});
          continue;
        }
      }
      rep.writes.push_back({nic, std::move(path), e.kind, channels_setting_text(*cur), want->text()});
      forget.push_back(ep);
      continue;
    }
    bool wrote = false;
    std::string now;
    Result<void> r;
    if (ctx.dry_run) {
      auto cur = ctx.root.read(path);
      if (cur) {
        now = std::string(trim(*cur));
        wrote = now != e.original;
      } else {
        r = cur.error();
      }
    } else {
      r = Applier::restore(ctx.root, ctx.writer, e, path, e.original.str(), ctx.online, &wrote, &now);
    }
    if (!r) {
      if (r.error().code == ENOENT && !nic.empty()) {
        // A queue that only existed while our channel count was in force.
        rep.gone.push_back({nic, std::move(path), "the queue is gone with the channel count it came with"});
        forget.push_back(ep);
      } else {
        rep.errors.push_back({nic, std::move(path), r.error().text(), "the entry stays in the journal"});
      }
      continue;
    }
    if (wrote) rep.writes.push_back({nic, std::move(path), e.kind, now, e.original.str()});
    else rep.unchanged.push_back(std::move(path));
    forget.push_back(ep);
  }
  if (!ctx.dry_run)
    if (auto r = journal.forget(forget); !r) return r.error();
  return rep;
}

}  // namespace gn
