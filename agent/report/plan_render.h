// Renderers of a plan (with the facts it came from): a table for people, JSON for programs.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "facts.h"
#include "json_out.h"
#include "plan.h"
#include "policy.h"
#include "status_schema.h"

namespace gn {

// The plan document (`plan --json`), streamed; plan_json is the same as a value (tests).
void write_plan_json(JsonOut& out, const Facts& facts, const Policy& policy, const Plan& plan);
nlohmann::json plan_json(const Facts& facts, const Policy& policy, const Plan& plan);

// Pieces the status document shares with the plan's. Each writes its members in key order; the
// caller interleaves its own between them.
void write_facts_summary(JsonOut& out, const Facts& facts);  // "cpus", "irqbalance_running"
void write_kernel(JsonOut& out, const Facts& facts);         // "kernel"
void write_nics(JsonOut& out, const Plan& plan);             // "nics", "notes"
// What status adds to a setting: its state and, when it drifted, the likely cause.
struct SettingExtra {
  const char* state = nullptr;
  const std::string* drift_cause = nullptr;
};
void write_setting(JsonOut& out, const Setting& s, const SettingExtra& extra);
// `label` names each setting's first column: the action for `plan`, the state for `status`.
using SettingLabel = const char* (*)(const Setting&);
void render_plan_table(std::ostream& out, const Facts& facts, const Policy& policy, const Plan& plan,
                       SettingLabel label = nullptr);

// A setting's value for a table: masks as CPU lists ("0-3", "none"), "-" for nothing.
std::string value_for_people(const Setting& s, std::string_view value);

// "ethtool:eth0:channels" → "eth0 channels"; "sys/..." → "/sys/...".
std::string display_target(const std::string& target);
// The same for a target, built in one piece.
std::string display_target(const Target& t);

}  // namespace gn
