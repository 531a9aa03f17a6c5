// The fleet's rows rendered three ways: a table for people, JSON for programs and one Prometheus
// text exposition for the whole host (node_exporter's textfile collector). Every string that came
// from a guest is neutralised, and label values are escaped as the exposition format requires.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "fleet.h"

namespace gn::qga {

struct FleetRun {
  std::string source;       // "libvirt" or "sockets"
  double seconds = 0;       // how long asking every guest took
  long long finished = 0;   // Unix time the run ended
};

void render_fleet_table(std::ostream& out, const std::vector<GuestRow>& rows, const std::string& empty_note);
void render_fleet_json(std::ostream& out, const std::vector<GuestRow>& rows);
void render_fleet_prometheus(std::ostream& out, const std::vector<GuestRow>& rows, const FleetRun& run);

// A label value as the text format wants it: backslash, double quote and newline escaped.
std::string escape_label_value(const std::string& s);

// The number of CPUs in a CPU list ("0-3,8" → 5); nullopt when it is not one or is absurd.
std::optional<unsigned> cpulist_count(const std::string& list);

}  // namespace gn::qga
