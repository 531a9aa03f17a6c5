// `plan` and `capture`: probe, plan, print.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "capture.h"
#include "commands.h"
#include "exit_codes.h"
#include "plan.h"
#include "plan_render.h"
#include "probe.h"
#include "session.h"

namespace gn {

int run_plan(const CliOptions& o, std::ostream& out) {
  Session s(o);
  if (const int code = probe_and_plan(o, s)) return code;
  if (o.json) print_json(out, [&](JsonOut& j) { write_plan_json(j, *s.facts, o.policy, *s.plan); });
  else render_plan_table(out, *s.facts, o.policy, *s.plan);
  return exit_code::kOk;
}

int run_capture(const CliOptions& o, std::ostream& out) {
  Session s(o);
  auto n = capture_snapshot(s.root, *s.ethtool, ProbeOptions{o.policy.drivers}, o.capture_dir);
  if (!n) {
    spdlog::error("{}", n.error().text());
    return exit_code::kFailed;
  }
  out << "captured " << *n << " files into " << o.capture_dir << " (plan it with --root " << o.capture_dir << ")\n";
  return exit_code::kOk;
}

}  // namespace gn
