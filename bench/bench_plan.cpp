// Planning cost on a very wide guest: 1024 CPUs (2 NUMA nodes, SMT pairs), 16 virtio NICs of
// 256 queue pairs each, every mask empty (the worst case: everything to write). The baseline in
// the same run is copying the Facts (files that hold the same text share it, as the probe makes
// them), and copying them with every text too (a pass over every byte the plan compares).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>

#include <unistd.h>

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
  // Shared as the probe shares them: files that hold the same text hold one copy of it.
  const auto empty = gn::Shared<std::string>::make(gn::format_cpumask({}, 1024));
  const auto zero = gn::Shared<std::string>::make("0");
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
      rx.files.emplace_back(gn::SettingKind::RpsFlowCnt, gn::SysFile{zero, 0});
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
    sc.file.text = zero;
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

// The same copy with every file's text copied too (as before files shared their texts): a pass
// that touches every byte the plan compares.
void BM_BaselineCopyFactsAndTexts(benchmark::State& state) {
  const auto own = [](gn::SysFile& f) {
    if (f.text) f.text = gn::Shared<std::string>::make(*f.text);
  };
  for (auto _ : state) {
    gn::Facts copy = facts();
    for (auto& n : copy.nics) {
      for (auto* queues : {&n.tx, &n.rx})
        for (auto& q : *queues)
          for (auto& kf : q.files) own(kf.second);
      for (auto& irq : n.irqs) own(irq.smp_affinity);
    }
    for (auto& sc : copy.sysctls) own(sc.file);
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_BaselineCopyFactsAndTexts)->Unit(benchmark::kMillisecond);

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

// A stream that keeps nothing and counts the bytes: `plan --json` writes to standard output a block
// at a time, never holding the document.
class CountingBuf : public std::streambuf {
 public:
  size_t bytes = 0;

 protected:
  std::streamsize xsputn(const char*, std::streamsize n) override {
    bytes += static_cast<size_t>(n);
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) ++bytes;
    return c;
  }
};

// What `plan --json` does: the streaming writer onto a stream.
void BM_PlanJson_1024cpu_16nic_256q(benchmark::State& state) {
  const gn::Plan p = gn::make_plan(facts(), gn::Policy{});
  size_t bytes = 0;
  for (auto _ : state) {
    CountingBuf buf;
    std::ostream out(&buf);
    gn::print_json(out, [&](gn::JsonOut& j) { gn::write_plan_json(j, facts(), gn::Policy{}, p); });
    bytes = buf.bytes;
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_PlanJson_1024cpu_16nic_256q)->Unit(benchmark::kMillisecond);

// The same document as an nlohmann tree dumped with dump(2) onto the same stream, as the renderers
// did before the streaming writer, not counting the cost of building the tree.
void BM_PlanJsonAsTree_1024cpu_16nic_256q(benchmark::State& state) {
  const gn::Plan p = gn::make_plan(facts(), gn::Policy{});
  const std::string text = gn::json_text([&](gn::JsonOut& j) { gn::write_plan_json(j, facts(), gn::Policy{}, p); });
  for (auto _ : state) {
    state.PauseTiming();
    nlohmann::json tree = nlohmann::json::parse(text);
    state.ResumeTiming();
    CountingBuf buf;
    std::ostream out(&buf);
    out << tree.dump(2) << "\n";
    state.PauseTiming();
    { nlohmann::json gone = std::move(tree); }
    state.ResumeTiming();
  }
}
BENCHMARK(BM_PlanJsonAsTree_1024cpu_16nic_256q)->Unit(benchmark::kMillisecond);

// The console report, then the ratios the targets are written in.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  // Colour only on a terminal (a reporter of one's own gets none of the library's auto choice,
  // and a log or pipe got escape sequences).
  RatioReporter() : ConsoleReporter(::isatty(STDOUT_FILENO) ? OO_Defaults : OO_Tabular) {}
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs)
      if (r.run_type == Run::RT_Iteration && !r.error_occurred) ms_[r.run_name.function_name] = r.GetAdjustedRealTime();
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    const auto at = [&](const char* n) { return ms_.count(n) ? ms_[n] : 0.0; };
    const double copy = at("BM_BaselineCopyFacts"), plan = at("BM_Plan_1024cpu_16nic_256q");
    const double deep = at("BM_BaselineCopyFactsAndTexts");
    const double json = at("BM_PlanJson_1024cpu_16nic_256q"), tree = at("BM_PlanJsonAsTree_1024cpu_16nic_256q");
    std::ostream& out = GetOutputStream();
    char line[160];
    if (copy > 0 && plan > 0) {
      std::snprintf(line, sizeof line, "plan: %.2f ms = %.1fx copying the Facts (target: <= 20 ms and <= 3x)\n", plan, plan / copy);
      out << line;
    }
    if (deep > 0 && plan > 0) {
      std::snprintf(line, sizeof line, "plan: %.2fx copying the Facts with every text (%.2f ms)\n", plan / deep, deep);
      out << line;
    }
    if (json > 0) {
      std::snprintf(line, sizeof line, "plan JSON: %.2f ms (target: <= 40 ms)\n", json);
      out << line;
    }
    if (json > 0 && tree > 0) {
      std::snprintf(line, sizeof line, "plan JSON streamed: %.2fx dumping the same document's nlohmann tree\n", json / tree);
      out << line;
    }
  }

 private:
  std::map<std::string, double> ms_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
