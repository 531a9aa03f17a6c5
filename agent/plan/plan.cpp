#include "plan.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>

#include "kernel_paths.h"

namespace gn {

const char* to_string(Action a) {
  switch (a) {
    case Action::Write: return "write";
    case Action::Keep: return "keep";
    case Action::Skip: return "skip";
  }
  return "?";
}

static_assert(sizeof(Setting) <= 48, "a wide guest's plan holds tens of thousands of settings");

KeptText TextBlocks::keep(std::initializer_list<std::string_view> parts) {
  size_t size = 0;
  for (const auto part : parts) size += part.size();
  const uint32_t n = static_cast<uint32_t>(size);
  const size_t need = sizeof n + size;
  if (blocks_.empty() || size_ - used_ < need) {
    size_ = std::max(kBlockBytes, need);
    blocks_.emplace_back(new char[size_]);  // filled as texts are laid: no need to clear it first
    used_ = 0;
  }
  char* const at = blocks_.back().get() + used_;
  std::memcpy(at, &n, sizeof n);
  char* to = at + sizeof n;
  for (const auto part : parts) {
    if (!part.empty()) std::memcpy(to, part.data(), part.size());
    to += part.size();
  }
  used_ += need;
  return KeptText(at);
}

unsigned Plan::count(Action a) const {
  return static_cast<unsigned>(std::count_if(settings.begin(), settings.end(),
                                             [a](const Setting& s) { return s.action == a; }));
}

namespace {

// Cuts `order` into nq contiguous blocks of the driver's sizes (wrapping when nq > CPUs).
std::vector<CpuSet> cut_blocks(const std::vector<unsigned>& order, unsigned nq) {
  std::vector<CpuSet> blocks(nq);
  const unsigned n = static_cast<unsigned>(order.size());
  if (n == 0) return blocks;
  if (nq >= n) {
    for (unsigned q = 0; q < nq; ++q) blocks[q].add(order[q % n]);
    return blocks;
  }
  unsigned pos = 0;
  for (unsigned q = 0; q < nq; ++q) {
    const unsigned size = n / nq + (q < n % nq ? 1 : 0);
    for (unsigned i = 0; i < size; ++i) blocks[q].add(order[pos++]);
  }
  return blocks;
}

}  // namespace

std::vector<CpuSet> stripe_cpus(const CpuFacts& cpus, const CpuSet& usable, unsigned nq) {
  if (nq == 0) return {};
  // Per node, usable CPUs ordered core by core (SMT siblings next to each other).
  std::vector<std::vector<unsigned>> per_node;
  CpuSet placed;
  for (const auto& node : cpus.nodes) {
    std::vector<unsigned> order;
    CpuSet mine = node;
    mine &= usable;
    for (const auto& core : cpus.cores) {
      if (core.empty() || !node.has(core.first())) continue;
      // The core's usable CPUs of this node, in numeric order.
      const auto& a = core.words();
      const auto& b = mine.words();
      for (size_t w = 0; w < a.size() && w < b.size(); ++w)
        for (uint32_t bits = a[w] & b[w]; bits != 0; bits &= bits - 1) {
          const unsigned c = static_cast<unsigned>(w * 32) + static_cast<unsigned>(__builtin_ctz(bits));
          order.push_back(c);
          placed.add(c);
        }
    }
    // CPUs of the node that no core lists (a partial topology) keep their numeric order.
    mine -= placed;
    for (unsigned c : mine.cpus()) order.push_back(c);
    placed |= mine;
    if (!order.empty()) per_node.push_back(std::move(order));
  }
  // Usable CPUs in no node (no NUMA information for them) form one more group.
  std::vector<unsigned> rest = (usable - placed).cpus();
  if (!rest.empty()) per_node.push_back(std::move(rest));

  unsigned ncpu = 0;
  for (const auto& o : per_node) ncpu += static_cast<unsigned>(o.size());
  if (per_node.size() <= 1 || nq < per_node.size() || nq >= ncpu) {
    std::vector<unsigned> order;
    for (const auto& o : per_node) order.insert(order.end(), o.begin(), o.end());
    return cut_blocks(order, nq);
  }
  // Whole queues per node, in proportion to its CPUs: one each, then the next queue to the
  // node with the most CPUs per queue (the lower node on a tie).
  std::vector<unsigned> share(per_node.size(), 1);
  for (unsigned left = nq - static_cast<unsigned>(per_node.size()); left > 0; --left) {
    size_t best = 0;
    for (size_t i = 1; i < per_node.size(); ++i)
      if (per_node[i].size() * share[best] > per_node[best].size() * share[i]) best = i;
    ++share[best];
  }
  std::vector<CpuSet> blocks;
  for (size_t i = 0; i < per_node.size(); ++i) {
    auto b = cut_blocks(per_node[i], share[i]);
    blocks.insert(blocks.end(), b.begin(), b.end());
  }
  return blocks;
}

std::vector<std::string> selected_nics(const Facts& facts, const Policy& policy) {
  std::set<std::string> out;
  std::function<void(const std::string&, int)> add = [&](const std::string& name, int depth) {
    const Nic* n = facts.find_nic(name);
    if (n == nullptr || depth > 8) return;
    if (n->role == NicRole::Upper) {
      for (const auto& l : n->lowers) add(l, depth + 1);
      return;
    }
    out.insert(name);
  };
  if (policy.interfaces.empty()) {
    for (const auto& n : facts.nics)
      if (n.role == NicRole::Tunable) out.insert(n.name);
  } else {
    for (const auto& name : policy.interfaces) add(name, 0);
  }
  for (const auto& x : policy.exclude) out.erase(x);
  return {out.begin(), out.end()};
}

namespace {

unsigned round_up_pow2(unsigned v) {
  unsigned p = 1;
  while (p < v && p < (1u << 30)) p <<= 1;
  return p;
}

std::string read_error_reason(const SysFile& f) {
  if (f.error == ENOENT) return "not present on this kernel";
  return std::string("unreadable: ") + std::strerror(f.error);
}

class Planner {
 public:
  Planner(const Facts& f, const Policy& p) : facts_(f), policy_(p), usable_(f.cpus.usable()) {}

  Plan run() {
    if (usable_.empty()) {
      plan_.notes.push_back("every online CPU is isolated: masks use all online CPUs instead");
      usable_ = facts_.cpus.online;
    } else if (usable_ != facts_.cpus.online) {
      plan_.notes.push_back("isolated CPUs " + format_cpulist(facts_.cpus.online - usable_) +
                            " are left out of every mask");
    }
    for (const auto& node : facts_.cpus.nodes) {
      node_usable_.push_back(node & usable_);
      node_masks_.push_back(mask(node_usable_.back()));
    }
    usable_mask_ = mask(usable_);
    if (facts_.behaviour == DriverBehaviour::DriverSelectsQueue)
      plan_.notes.push_back("XPS is not applicable: " + facts_.behaviour_evidence);
    if (facts_.irqbalance_running && policy_.irq_affinity)
      plan_.notes.push_back("irqbalance is running: IRQ affinity is left to it");
    if (policy_.profile == Profile::Observe)
      plan_.notes.push_back("profile observe: nothing is written; the plan shows what balanced would do");

    const auto chosen = selected_nics(facts_, policy_);
    // Room for the settings of the queues and IRQs there are now (the files of the profile's
    // kinds in each queue): the vector grows again only when channels add queues.
    size_t per_rx = 0, per_tx = 0;
    for (const auto& k : kKinds)
      if (k.profiles & profile_bit(policy_.profile)) {
        per_rx += k.place == Place::RxQueue;
        per_tx += k.place == Place::TxQueue;
      }
    size_t room = kSysctlCount;
    for (const auto& name : chosen) {
      const Nic& n = *facts_.find_nic(name);
      room += 1 + n.irqs.size() + per_rx * n.rx.size() + per_tx * n.tx.size();
    }
    plan_.settings.reserve(room);
    summarise_unchosen(chosen);
    for (const auto& name : chosen) plan_nic(*facts_.find_nic(name));
    plan_sysctls();
    std::sort(plan_.nics.begin(), plan_.nics.end(),
              [](const NicSummary& a, const NicSummary& b) { return a.name < b.name; });
    if (policy_.profile == Profile::Observe)
      for (auto& s : plan_.settings)
        if (s.action == Action::Write) {
          s.action = Action::Skip;
          s.reason = own("observe profile: not written (" + std::string(s.reason) + ")");
        }
    return std::move(plan_);
  }

 private:
  void summarise_unchosen(const std::vector<std::string>& chosen) {
    for (const auto& n : facts_.nics) {
      if (std::binary_search(chosen.begin(), chosen.end(), n.name)) continue;
      std::string detail = n.why;
      if (n.role == NicRole::Upper && !n.lowers.empty()) {
        detail = (n.kind.empty() ? std::string("upper device") : n.kind) + " over ";
        for (size_t i = 0; i < n.lowers.size(); ++i) detail += (i ? ", " : "") + n.lowers[i];
        detail += ": the lower devices are tuned, never the upper one";
      } else if (n.role == NicRole::Tunable) {
        detail = policy_.exclude.count(n.name) ? "excluded by configuration" : "not selected";
      }
      plan_.nics.push_back({n.name, to_string(n.role), n.driver, detail,
                            static_cast<unsigned>(n.tx.size()), static_cast<unsigned>(n.tx.size()), 0});
    }
  }

  // A text the plan keeps (own_texts): a reason, kept once for the settings that share it.
  KeptText own(std::string_view text) { return plan_.own_texts.keep(text); }
  KeptText own(std::initializer_list<std::string_view> parts) { return plan_.own_texts.keep(parts); }

  // The text a file holds now, "" when absent or unreadable.
  static const Shared<std::string>& text_of(const SysFile& f) { return f.text; }

  // The NIC's name, one copy for all its settings.
  const SharedText& nic_name(const Nic& nic) {
    if (named_ != &nic) {
      name_ = SharedText(nic.name);
      named_ = &nic;
    }
    return name_;
  }
  const Nic* named_ = nullptr;
  SharedText name_;

  Setting& add(SettingKind kind, const Nic* nic, int queue, SharedText current, Value desired, Action action,
               const std::string& reason) {
    return add(kind, nic, queue, std::move(current), std::move(desired), action, own(reason));
  }
  Setting& add(SettingKind kind, const Nic* nic, int queue, SharedText current, Value desired, Action action,
               KeptText reason) {
    return plan_.settings.emplace_back(Target{kind, nic ? nic_name(*nic) : SharedText(), queue, 0, nullptr},
                                       std::move(current), std::move(desired), action, reason);
  }
  Setting& add(Target target, SharedText current, Value desired, Action action, const std::string& reason) {
    return add(std::move(target), std::move(current), std::move(desired), action, own(reason));
  }
  Setting& add(Target target, SharedText current, Value desired, Action action, KeptText reason) {
    return plan_.settings.emplace_back(std::move(target), std::move(current), std::move(desired), action, reason);
  }

  // The stripe of nq transmit queues (the same for every NIC with as many queues), each block's
  // CPU list and what the XPS reason says of it.
  struct Stripe {
    std::vector<CpuSet> blocks;
    std::vector<std::string> lists;    // "0-1"
    std::vector<KeptText> xps_why;  // "CPUs 0-1: contiguous block 1 of 256"
    std::vector<Value> masks;   // each block as the mask its queue's XPS and IRQ settings want
  };
  const Stripe& stripe(unsigned nq) {
    auto it = stripes_.find(nq);
    if (it != stripes_.end()) return it->second;
    Stripe st;
    st.blocks = stripe_cpus(facts_.cpus, usable_, nq);
    for (unsigned q = 0; q < st.blocks.size(); ++q) {
      st.lists.push_back(format_cpulist(st.blocks[q]));
      st.masks.push_back(mask(st.blocks[q]));
      st.xps_why.push_back(own("CPUs " + st.lists[q] + ": " + block_reason(st.blocks[q], q, nq)));
    }
    return stripes_.emplace(nq, std::move(st)).first->second;
  }

  // The usable CPUs of the NUMA node a block starts on (all usable CPUs without one).
  // As a mask, made once: the settings that want it share its CPUs.
  const Value& node_mask_of(const CpuSet& block) const {
    const Value* want = &usable_mask_;
    if (block.empty()) return *want;
    const unsigned first = block.first();
    for (size_t i = 0; i < facts_.cpus.nodes.size(); ++i)
      if (facts_.cpus.nodes[i].has(first) && !node_usable_[i].empty()) want = &node_masks_[i];
    return *want;
  }

  Value mask(const CpuSet& s) const { return Value::mask(ValueType::CpuMask, s, facts_.cpus.nr_cpu_ids); }

  // Write unless the current text holds the same value.
  static Action action_for(const SysFile& f, const Value& want) {
    return f.readable() && holds(*f.text, want) ? Action::Keep : Action::Write;
  }

  void plan_nic(const Nic& n) {
    NicSummary sum{n.name, to_string(n.role), n.driver, n.why, static_cast<unsigned>(n.tx.size()),
                   static_cast<unsigned>(n.tx.size()), 0};
    if (n.role != NicRole::Tunable) {
      plan_.nics.push_back(sum);
      return;
    }
    const unsigned ncpu = usable_.count();
    // Channels.
    unsigned ntx = static_cast<unsigned>(n.tx.size()), nrx = static_cast<unsigned>(n.rx.size());
    if (!n.channels) {
      add(SettingKind::Channels, &n, -1, "", {}, Action::Skip,
          "channels unknown: " + n.channels_error);
    } else {
      const Channels& c = *n.channels;
      Channels want = c;
      const auto target_count = [&](uint32_t max) {
        unsigned v = std::min<unsigned>(max, ncpu);
        if (policy_.channel_cap) v = std::min(v, *policy_.channel_cap);
        return std::max(v, 1u);
      };
      std::string why;
      if (c.combined_kind()) {
        want.combined = target_count(c.max_combined);
        sum.queues_max = c.max_combined;
        why = "min(max " + std::to_string(c.max_combined) + ", usable CPUs " + std::to_string(ncpu) + ")";
      } else {
        want.rx = c.max_rx ? target_count(c.max_rx) : c.rx;
        want.tx = c.max_tx ? target_count(c.max_tx) : c.tx;
        sum.queues_max = c.max_tx;
        why = "min(max rx " + std::to_string(c.max_rx) + "/tx " + std::to_string(c.max_tx) +
              ", usable CPUs " + std::to_string(ncpu) + ")";
      }
      if (policy_.channel_cap) why += ", capped at " + std::to_string(*policy_.channel_cap);
      const bool single = is_single_queue(n);
      if (!policy_.channels) {
        add(SettingKind::Channels, &n, -1, SharedText(channels_setting_text(c)), {}, Action::Skip,
            "turned off by configuration (channels = off)");
      } else if (single) {
        add(SettingKind::Channels, &n, -1, SharedText(channels_setting_text(c)), Value::channels(c),
            Action::Skip, "single queue: the host offers one queue pair (give the NIC queues=N, mq=on on the host)");
      } else {
        const bool same = want == c;
        add(SettingKind::Channels, &n, -1, SharedText(channels_setting_text(c)), Value::channels(want),
            same ? Action::Keep : Action::Write, why);
        ntx = want.combined + want.tx;
        nrx = want.combined + want.rx;
      }
    }
    sum.queues_planned = ntx;
    plan_.nics.push_back(sum);

    const Stripe& st = stripe(ntx);
    plan_rps(n, nrx, st.blocks);
    plan_xps(n, ntx, st);
    plan_xps_rxqs(n, ntx, nrx);
    plan_irqs(n, ntx, st);
  }

  // One queue pair offered by the host: nothing to spread.
  static bool is_single_queue(const Nic& n) {
    if (!n.channels) return n.tx.size() <= 1 && n.rx.size() <= 1;
    const Channels& c = *n.channels;
    return c.combined_kind() ? c.max_combined <= 1 : (c.max_rx <= 1 && c.max_tx <= 1);
  }

  // Queue q of a list, which the probe gives in order (queue q at position q) but need not.
  static const Queue* find_queue(const std::vector<Queue>& queues, unsigned q) {
    if (q < queues.size() && queues[q].index == q) return &queues[q];
    for (const auto& x : queues)
      if (x.index == q) return &x;
    return nullptr;
  }
  static const TxQueue* tx_queue(const Nic& n, unsigned q) { return find_queue(n.tx, q); }
  static const RxQueue* rx_queue(const Nic& n, unsigned q) { return find_queue(n.rx, q); }

  // A queue file the probe read, or one that is absent (the queue appears when channels change).
  static const SysFile& queue_file(const Queue* q, SettingKind k) {
    static const SysFile absent{{}, ENOENT};
    const SysFile* f = q ? q->file(k) : nullptr;
    return f ? *f : absent;
  }

  void plan_rps(const Nic& n, unsigned nrx, const std::vector<CpuSet>& blocks) {
    const unsigned ncpu = usable_.count();
    // Fewer rx queues than CPUs, a single-queue NIC too: RPS spreads the receive work that the
    // queues' IRQs would otherwise leave on a few CPUs.
    const bool single = is_single_queue(n);
    const bool on = policy_.rps == RpsMode::On || (policy_.rps == RpsMode::Auto && nrx < ncpu);
    const bool off = policy_.rps == RpsMode::Off;
    KeptText why_not;
    if (!on && !off)
      why_not = own("not needed: " + std::to_string(nrx) + " rx queues for " + std::to_string(ncpu) +
                     " usable CPUs (rps = auto)");
    const unsigned flows = nrx ? round_up_pow2(std::max(1u, policy_.rps_sock_flow_entries / nrx)) : 0;
    // The reasons are the same for every queue of the NIC.
    std::string why = "rps = off", why_cnt = "rps = off";
    if (on) {
      why = facts_.cpus.nodes.size() > 1 ? "usable CPUs of the queue's NUMA node" : "all usable CPUs";
      why += policy_.rps == RpsMode::On ? " (rps = on)"
             : single                   ? " (single-queue NIC: RPS spreads its receive work)"
                                        : " (fewer rx queues than CPUs)";
      why_cnt = "rps_sock_flow_entries " + std::to_string(policy_.rps_sock_flow_entries) + " / " +
                std::to_string(nrx) + " queues, a power of two";
    }
    const KeptText kept_why = own(why), kept_why_cnt = own(why_cnt);
    const Value want_cnt = Value::number(on ? flows : 0);
    const Value no_cpus = mask(CpuSet());
    for (unsigned q = 0; q < nrx; ++q) {
      const RxQueue* r = rx_queue(n, q);
      const SysFile& cpus = queue_file(r, SettingKind::RpsCpus);
      const SysFile& cnt = queue_file(r, SettingKind::RpsFlowCnt);
      if (r && !cpus.readable()) {
        add(SettingKind::RpsCpus, &n, static_cast<int>(q), "", {}, Action::Skip,
            "RPS " + read_error_reason(cpus) + " (CONFIG_RPS?)");
        continue;
      }
      if (!on && !off) {
        add(SettingKind::RpsCpus, &n, static_cast<int>(q), text_of(cpus), {}, Action::Skip, why_not);
        continue;
      }
      // On: the usable CPUs of the NUMA node this queue's block lives on.
      Value want_cpus = on ? node_mask_of(blocks.empty() ? usable_ : blocks[q % blocks.size()]) : no_cpus;
      const Action cpus_action = action_for(cpus, want_cpus);
      add(SettingKind::RpsCpus, &n, static_cast<int>(q), text_of(cpus), std::move(want_cpus), cpus_action, kept_why);
      if (r && !cnt.readable())  // as rps_cpus above; also a NIC that went while the probe read it
        add(SettingKind::RpsFlowCnt, &n, static_cast<int>(q), "", {}, Action::Skip, "RFS " + read_error_reason(cnt));
      else
        add(SettingKind::RpsFlowCnt, &n, static_cast<int>(q), text_of(cnt), want_cnt, action_for(cnt, want_cnt),
            kept_why_cnt);
    }
    if (on) rfs_wanted_ = true;
  }

  // What an XPS block is: a run of consecutive CPU numbers, or (SMT siblings kept together,
  // NUMA nodes apart) consecutive CPUs in the planner's core order, which are not a numeric run.
  std::string block_reason(const CpuSet& block, unsigned q, unsigned ntx) const {
    const std::string nth = "block " + std::to_string(q + 1) + " of " + std::to_string(ntx);
    const bool run = !block.empty() && block.count() == block.end() - block.first();
    if (run) return "contiguous " + nth;
    std::string why = nth + ", consecutive in core order (SMT siblings side by side)";
    if (facts_.cpus.nodes.size() > 1) {
      for (size_t i = 0; i < facts_.cpus.nodes.size(); ++i)
        if ((block - facts_.cpus.nodes[i]).empty()) return why + " on NUMA node " + std::to_string(i);
    }
    return why;
  }

  // Why no file of the XPS kinds (xps_cpus, xps_rxqs) is planned on this guest; empty when they are.
  std::string xps_not_planned() const {
    if (facts_.behaviour == DriverBehaviour::DriverSelectsQueue) return "not applicable: the driver picks the tx queue itself";
    if (!policy_.xps) return "turned off by configuration (xps = off)";
    return {};
  }

  void plan_xps(const Nic& n, unsigned ntx, const Stripe& st) {
    const std::string off = xps_not_planned();
    for (unsigned q = 0; q < ntx; ++q) {
      const TxQueue* t = tx_queue(n, q);
      const SysFile& file = queue_file(t, SettingKind::Xps);
      const auto& cur = text_of(file);
      const auto skip = [&](const std::string& why) {
        add(SettingKind::Xps, &n, static_cast<int>(q), cur, {}, Action::Skip, why);
      };
      if (!off.empty()) {
        skip(off);
      } else if (ntx == 1 && is_single_queue(n)) {
        // 4.19+ answers ENOENT on xps_cpus of a device with one tx queue in all.
        const bool refused = t && file.error == ENOENT;
        skip(std::string("single-queue NIC: every CPU uses its one tx queue") +
             (refused ? " (the kernel refuses xps_cpus on a device with one tx queue)" : ""));
      } else if (ntx == 1) {
        // More queues exist (the file works); one in use needs no map.
        skip("one tx queue in use: every CPU sends through it, nothing to map");
      } else if (t && !file.readable()) {
        skip("XPS " + read_error_reason(file) + " (CONFIG_XPS?)");
      } else {
        Value want = st.masks[q];
        const Action action = action_for(file, want);
        if (t)
          add(SettingKind::Xps, &n, static_cast<int>(q), cur, std::move(want), action, st.xps_why[q]);
        else
          add(SettingKind::Xps, &n, static_cast<int>(q), cur, std::move(want), action,
              std::string(st.xps_why[q]) + " (the queue appears when channels change)");
      }
    }
  }

  // xps_rxqs (latency): tx queue q serves the flows received on rx queue q, so replies leave by
  // the queue pair their flow arrived on. Only where the kernel has the file (4.18+, backports).
  void plan_xps_rxqs(const Nic& n, unsigned ntx, unsigned nrx) {
    if (!(row(SettingKind::XpsRxqs).profiles & profile_bit(policy_.profile))) return;
    bool present = false;
    for (const auto& t : n.tx)
      if (const SysFile* f = t.file(SettingKind::XpsRxqs)) present = present || f->error != ENOENT;
    if (!present) return;
    // The kernel prints the mask over every rx queue the device may have.
    const unsigned width = n.channels ? std::max(n.channels->max_combined + n.channels->max_rx, nrx) : nrx;
    const std::string off = xps_not_planned();
    for (unsigned q = 0; q < ntx; ++q) {
      const TxQueue* t = tx_queue(n, q);
      const SysFile& file = queue_file(t, SettingKind::XpsRxqs);
      const auto& cur = text_of(file);
      const auto skip = [&](const std::string& why) {
        add(SettingKind::XpsRxqs, &n, static_cast<int>(q), cur, {}, Action::Skip, why);
      };
      if (!off.empty()) {
        skip(off);
      } else if (ntx == 1) {
        skip("one tx queue: every flow uses it");
      } else if (q >= nrx) {
        skip("no rx queue " + std::to_string(q) + " to follow");
      } else if (t && !file.readable()) {
        skip("xps_rxqs " + read_error_reason(file));
      } else {
        Value want = Value::mask(ValueType::QueueMask, CpuSet::of({q}), width);
        const Action action = action_for(file, want);
        add(SettingKind::XpsRxqs, &n, static_cast<int>(q), cur, std::move(want), action,
            "rx queue " + std::to_string(q) + ": replies leave by the queue pair their flow came in on");
      }
    }
  }

  void plan_irqs(const Nic& n, unsigned ntx, const Stripe& st) {
    for (const auto& irq : n.irqs) {
      const auto& cur = text_of(irq.smp_affinity);
      const int q = irq.queue;
      const Target target{SettingKind::IrqAffinity, nic_name(n), q, irq.irq, nullptr};
      const auto skip = [&](const std::string& why) { add(target, cur, {}, Action::Skip, why); };
      if (irq.role == IrqRole::Shared || irq.role == IrqRole::Legacy) {
        skip(irq.name + " serves every queue: left alone");
      } else if (is_single_queue(n)) {
        skip("single-queue NIC: left alone");
      } else if (q < 0 || static_cast<unsigned>(q) >= ntx) {
        continue;  // a queue pair beyond the planned count: unused
      } else if (!policy_.irq_affinity) {
        skip("turned off by configuration (irq-affinity = off)");
      } else if (facts_.irqbalance_running) {
        skip("irqbalance is running and moves IRQs every 10 s (ban these IRQs in irqbalance, or stop it)");
      } else if (!irq.smp_affinity.readable()) {
        skip("smp_affinity " + read_error_reason(irq.smp_affinity));
      } else {
        const auto b = static_cast<unsigned>(q);
        Value want_mask = st.masks[b];
        const Action action = action_for(irq.smp_affinity, want_mask);
        const std::string queue = std::to_string(q);
        // Laid straight into the plan's texts: it keeps one for every IRQ of every NIC.
        const KeptText why = own({irq.name, " follows queue ", queue, "'s XPS block (CPUs ", st.lists[b], ")"});
        add(target, cur, std::move(want_mask), action, why);
      }
    }
  }

  void plan_sysctls() {
    std::map<const SysctlRow*, ProfileValue> want;  // rows in catalogue order: sorted by name
    const Profile profile = policy_.profile == Profile::Observe ? Profile::Balanced : policy_.profile;
    for (const auto& r : kSysctls)
      if (auto v = profile_value(r, profile)) want[&r] = *v;
    for (const auto& [name, value] : policy_.sysctl_overrides)
      if (const SysctlRow* r = find_sysctl_row(name)) want[r] = {value, false};
    const SysctlRow* rfs = find_sysctl_row("rps_sock_flow_entries");
    if (rfs_wanted_) want[rfs] = {policy_.rps_sock_flow_entries, false};
    for (const auto& entry : want) {
      const SysctlRow* r = entry.first;  // a plain variable: C++17 lambdas cannot capture a binding
      const ProfileValue& w = entry.second;
      const std::string name = sysctl_full_name(*r);
      const Sysctl* s = facts_.find_sysctl(name);
      const auto add_sysctl = [&](SharedText cur, long long value, Action action, std::string why) {
        add(Target{SettingKind::Sysctl, SharedText(), -1, 0, r}, cur, Value::number(value), action, why);
      };
      long long value = w.value;
      if (s == nullptr || !s->file.readable()) {
        add_sysctl("", value, Action::Skip, name + " is not available on this kernel");
        continue;
      }
      const std::string& cur = *s->file.text;
      std::string why = policy_.sysctl_overrides.count(name) ? "set by configuration"
                        : r == rfs                           ? "RFS flow table for RPS"
                                                             : std::string("profile ") + to_string(policy_.profile);
      char* end = nullptr;
      const long long now = std::strtoll(cur.c_str(), &end, 10);
      if (w.at_least) {
        why += ": at least " + std::to_string(w.value);
        if (*end == '\0' && now > value) value = now;
      }
      if (!policy_.sysctls) {
        add_sysctl(s->file.text, value, Action::Skip, "turned off by configuration (sysctls = off)");
        continue;
      }
      add_sysctl(s->file.text, value, cur == std::to_string(value) ? Action::Keep : Action::Write, why);
    }
  }

  const Facts& facts_;
  const Policy& policy_;
  CpuSet usable_;
  std::vector<CpuSet> node_usable_;  // the usable CPUs of each NUMA node
  std::vector<Value> node_masks_;    // the same as masks
  Value usable_mask_;
  std::map<unsigned, Stripe> stripes_;
  Plan plan_;
  bool rfs_wanted_ = false;
};

}  // namespace

Plan make_plan(const Facts& facts, const Policy& policy) { return Planner(facts, policy).run(); }

}  // namespace gn
