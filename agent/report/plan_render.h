// Renderers of a plan (with the facts it came from): a table for people, JSON for programs.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "facts.h"
#include "plan.h"
#include "policy.h"
#include "status_schema.h"

namespace gn {

nlohmann::json facts_summary_json(const Facts& facts);
nlohmann::json setting_json(const Setting& s);
nlohmann::json plan_json(const Facts& facts, const Policy& policy, const Plan& plan);
// `label` names each setting's first column: the action for `plan`, the state for `status`.
using SettingLabel = const char* (*)(const Setting&);
void render_plan_table(std::ostream& out, const Facts& facts, const Policy& policy, const Plan& plan,
                       SettingLabel label = nullptr);

// A setting's value for a table: masks as CPU lists ("0-3", "none"), "-" for nothing.
std::string value_for_people(const Setting& s, const std::string& value);

// "ethtool:eth0:channels" → "eth0 channels"; "sys/..." → "/sys/...".
std::string display_target(const std::string& target);

}  // namespace gn
