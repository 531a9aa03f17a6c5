// Planning cost on a very wide guest: 1024 CPUs (2 NUMA nodes, SMT pairs), 16 virtio NICs of
// 256 queue pairs each, every mask empty (the worst case: everything to write). The baseline in
// the same run is copying the Facts, the least any pass over them costs.
#include <benchmark/benchmark.h>

#include "plan.h"
#include "plan_render.h"

namespace {

gn::Facts wide_facts() {
  gn::Facts f;
  f.kernel.text = "6.1.0-28-cloud-amd64";
  f.behaviour = gn::DriverBehaviour::DriverStripes;
  auto& c = f.cpus;
  c.nr_cpu_ids = 1024;
  c.possible = c.present = c.online = gn::CpuSet::range(0, 1023);
  c.nodes = {gn::CpuSet::range(0, 511), gn::CpuSet::range(512, 1023)};
  for (unsigned i = 0; i < 512; ++i) c.cores.push_back(gn::CpuSet::of({2 * i, 2 * i + 1}));
  const std::string empty = gn::format_cpumask({}, 1024);
  for (unsigned n = 0; n < 16; ++n) {
    gn::Nic nic;
    nic.name = "eth" + std::to_string(n);
    nic.driver = "virtio_net";
    nic.role = gn::NicRole::Tunable;
    nic.virtio_device = "virtio" + std::to_string(n);
    gn::Channels ch;
    ch.max_combined = 256;
    ch.combined = 256;
    nic.channels = ch;
    for (unsigned i = 0; i < 256; ++i) {
      gn::Queue tx{i, {}}, rx{i, {}};
      tx.files.emplace_back(gn::SettingKind::Xps, gn::SysFile{empty, 0});
      rx.files.emplace_back(gn::SettingKind::RpsCpus, gn::SysFile{empty, 0});
      rx.files.emplace_back(gn::SettingKind::RpsFlowCnt, gn::SysFile{"0", 0});
      nic.tx.push_back(std::move(tx));
      nic.rx.push_back(std::move(rx));
      for (auto role : {gn::IrqRole::Input, gn::IrqRole::Output}) {
        gn::QueueIrq irq;
        irq.irq = 100 + n * 512 + i * 2 + (role == gn::IrqRole::Output);
        irq.role = role;
        irq.queue = static_cast<int>(i);
        irq.smp_affinity = {empty, 0};
        nic.irqs.push_back(irq);
      }
    }
    f.nics.push_back(std::move(nic));
  }
  for (const char* s : {"net.core.netdev_budget", "net.core.netdev_max_backlog", "net.core.dev_weight",
                        "net.core.netdev_budget_usecs", "net.core.rps_sock_flow_entries"})
  {
    gn::Sysctl sc;
    sc.name = s;
    sc.file.text = "0";
    sc.row = gn::find_sysctl_row(s);
    f.sysctls.push_back(std::move(sc));
  }
  return f;
}

const gn::Facts& facts() {
  static const gn::Facts f = wide_facts();
  return f;
}

void BM_BaselineCopyFacts(benchmark::State& state) {
  for (auto _ : state) {
    gn::Facts copy = facts();
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_BaselineCopyFacts)->Unit(benchmark::kMillisecond);

void BM_Plan_1024cpu_16nic_256q(benchmark::State& state) {
  size_t settings = 0;
  for (auto _ : state) {
    gn::Plan p = gn::make_plan(facts(), gn::Policy{});
    settings = p.settings.size();
    benchmark::DoNotOptimize(p);
  }
  state.counters["settings"] = static_cast<double>(settings);
}
BENCHMARK(BM_Plan_1024cpu_16nic_256q)->Unit(benchmark::kMillisecond);

void BM_PlanJson_1024cpu_16nic_256q(benchmark::State& state) {
  const gn::Plan p = gn::make_plan(facts(), gn::Policy{});
  for (auto _ : state) {
    std::string s = gn::plan_json(facts(), gn::Policy{}, p).dump();
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_PlanJson_1024cpu_16nic_256q)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
