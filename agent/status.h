// Status: one value (facts, plan, actual values, drift per setting, last apply result, journal)
// with its renderers.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

#include "facts.h"
#include "plan.h"
#include "policy.h"

namespace gn {

struct Status {
  const Facts& facts;
  const Policy& policy;
  const Plan& plan;
  std::optional<nlohmann::json> last_apply;  // the status file of the last apply, if any
  size_t journal_entries = 0;
};

// ok (holds the planned value), drift (differs: apply would write it), not_applicable.
const char* setting_state(const Setting& s);

nlohmann::json status_json(const Status& s);
void render_status_table(std::ostream& out, const Status& s);

}  // namespace gn
