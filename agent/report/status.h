// Status: one value (facts, plan, actual values, drift per setting with its likely cause, the
// last apply's result, the journal, optionally a load sample) and its three renderers: a table
// for people, JSON (docs/status-schema.json) and Prometheus text for node_exporter.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "facts.h"
#include "journal.h"
#include "json_out.h"
#include "load_sample.h"
#include "plan.h"
#include "policy.h"

namespace gn {

struct Status {
  const Facts& facts;
  const Policy& policy;
  const Plan& plan;
  std::optional<nlohmann::json> last_apply;  // the status file of the last apply, if any
  JournalTargets journal_targets;            // what the agent has changed and can revert
  std::optional<LoadSample> load;
  // When set, --json writes the last apply's document with this instead of last_apply: it
  // streams the file (12 MB at 16 NICs x 256 queues of 1024 CPUs). False = it wrote nothing, and
  // last_apply is written. Called once: it reads the file to its end.
  std::function<bool(JsonOut&)> write_last_apply = nullptr;
  // Why the journal could not be read ("" when it could): journal_targets is then empty, and
  // every setting shows as not applied. Said in each output, so monitoring tells it from none.
  std::string journal_error = {};
};

// ok (holds the planned value), drift (differs: apply would write it), not_applicable.
const char* setting_state(const Setting& s);
// Who likely changed a drifted setting.
std::string drift_cause(const Status& st, const Setting& s);

// The status document (`status --json`, docs/status-schema.json), streamed; status_json is the
// same as a value (tests).
void write_status_json(JsonOut& out, const Status& s);
nlohmann::json status_json(const Status& s);
void render_status_table(std::ostream& out, const Status& s, bool colour);
void render_status_prometheus(std::ostream& out, const Status& s);

}  // namespace gn
