// The host's schema check: the schema built into it is docs/status-schema.json and uses only
// keywords the validator implements; what the real agent produces from every fixture passes;
// each kind of violation is refused with the field's JSON pointer and the rule it broke.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "../unit/plan_helpers.h"
#include "apply_render.h"
#include "fixture.h"
#include "load_sample.h"
#include "plan_render.h"
#include "schema.h"
#include "status.h"
#include "tempdir.h"

namespace gn::test {
namespace {

using gn::qga::check_schema_supported;
using gn::qga::status_schema;
using gn::qga::validate;
using gn::qga::validate_definition;
using gn::qga::validate_status;
using nlohmann::json;

TEST(Schema, TheBuiltInSchemaIsTheFileAndFullySupported) {
  std::ifstream f(GN_SOURCE_DIR "/docs/status-schema.json");
  ASSERT_TRUE(f) << "docs/status-schema.json";
  EXPECT_EQ(status_schema(), json::parse(f));
  const auto r = check_schema_supported(status_schema());
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().text());
}

TEST(Schema, UnknownKeywordsAndPatternsAreRefusedNotIgnored) {
  EXPECT_FALSE(check_schema_supported(json{{"type", "string"}, {"format", "ipv4"}}).ok());
  EXPECT_FALSE(check_schema_supported(json{{"pattern", "^[a-z]+$"}}).ok());
  EXPECT_FALSE(check_schema_supported(json{{"$ref", "#/definitions/nothing"}}).ok());
  EXPECT_FALSE(check_schema_supported(json{{"items", {{"uniqueItems", true}}}}).ok());
}

// Statuses, plans and apply reports as the agent makes them, from every fixture.
struct Rig {
  explicit Rig(const std::string& name) {
    named_fixtures().at(name).write(dir.path());
    facts = probe_snapshot(dir.path());
    plan = make_plan(facts, policy);
  }
  TempDir dir;
  Policy policy;
  Facts facts;
  Plan plan;
};

std::string broken(const std::optional<gn::qga::SchemaViolation>& v) { return v ? v->text() : ""; }

TEST(Schema, WhatTheAgentMakesFromEveryFixturePasses) {
  ASSERT_FALSE(named_fixtures().empty());
  for (const auto& [name, fixture] : named_fixtures()) {
    Rig r(name);
    std::vector<JournalEntry> held;
    for (const auto& s : r.plan.settings) held.emplace_back(s, SharedText());
    const json status = status_json(Status{r.facts, r.policy, r.plan, std::nullopt, JournalTargets(held), std::nullopt});
    EXPECT_EQ(broken(validate_status(status)), "") << name;
    EXPECT_EQ(broken(validate_definition(plan_json(r.facts, r.policy, r.plan), "plan_output")), "") << name;
  }
}

TEST(Schema, ALoadSampleALastApplyAndChangeReportsPass) {
  Rig r("rhel8.0-9vcpu-4-queues");
  ApplyReport report;
  const auto xps = std::find_if(r.plan.settings.begin(), r.plan.settings.end(),
                                [](const Setting& s) { return s.kind == SettingKind::Xps && !s.desired.empty(); });
  ASSERT_NE(xps, r.plan.settings.end());
  report.writes.push_back({&*xps, std::make_unique<const std::string>("000")});
  report.errors.push_back({"eth0", "sys/class/net/eth0/queues/rx-0/rps_cpus", "write failed: EINVAL", "check the mask"});
  report.failed_nics.push_back("eth0");
  const json apply = apply_json(report, r.policy, "partial");
  EXPECT_EQ(broken(validate_definition(apply, "changes_output")), "");
  RevertReport rev;
  rev.writes.push_back({"eth0", "sys/class/net/eth0/queues/tx-0/xps_cpus", SettingKind::Xps, "003", "000"});
  EXPECT_EQ(broken(validate_definition(revert_json(rev, "ok"), "changes_output")), "");

  LoadSample l;
  l.seconds = 1;
  l.peak_pps = 250e3;
  l.nics.push_back({"eth0", 125e3, 125e3, {{0, 60e3}, {1, 65e3}}, {{0, 125e3}}});
  l.cpus.push_back({0, 1, 2, 3});
  classify_load(l, Profile::Throughput);
  const json status = status_json(Status{r.facts, r.policy, r.plan, apply, {}, l});
  EXPECT_EQ(broken(validate_status(status)), "");
}

// One valid status, then one field broken at a time.
json valid_status() {
  Rig r("rhel8.0-9vcpu-4-queues");
  return status_json(Status{r.facts, r.policy, r.plan, std::nullopt, {}, std::nullopt});
}

struct Violation {
  const char* pointer;
  json value;  // nullptr with remove=true: the field is removed
  bool remove;
  const char* at;    // the pointer the violation must name
  const char* rule;  // and a part of its rule
};

TEST(Schema, EachViolationNamesTheFieldAndTheRule) {
  const json good = valid_status();
  ASSERT_EQ(broken(validate_status(good)), "");
  {
    json with_error = good;  // the field status --json adds when the journal cannot be read
    with_error["journal_error"] = "/var/lib/guest-nettune/journal.json: is not JSON";
    ASSERT_EQ(broken(validate_status(with_error)), "");
  }
  ASSERT_GE(good["nics"].size(), 1u);
  ASSERT_GE(good["settings"].size(), 1u);
  const json softnet_row = {{"cpu", 0}, {"processed", 1}, {"dropped", 0}, {"time_squeeze", 0}};
  const json load = {{"seconds", 1}, {"nics", {{{"nic", "eth0"}, {"rx_pps", 1}, {"tx_pps", 1}, {"rx_queue_pps", {{"x", 1}}},
                                                {"tx_queue_pps", json::object()}}}},
                     {"cpus", json::array()}, {"peak_pps", 1}, {"tier", "idle"}, {"recommendation", ""},
                     {"recommended_profile", ""}, {"profile_fits", true}};
  const std::vector<Violation> cases = {
      {"/nics/0/name", std::string(64, 'n'), false, "/nics/0/name", "64 characters long, more than 15 (maxLength)"},
      {"/nics/0/name", "", false, "/nics/0/name", "(minLength)"},
      {"/nics/0/role", "evil", false, "/nics/0/role", "is not one of \"tunable\", \"upper\", \"other\" (enum)"},
      {"/nics/0/queues_current", -7, false, "/nics/0/queues_current", "is -7, below the minimum 0 (minimum)"},
      {"/nics/0/queues_max", 65536, false, "/nics/0/queues_max", "above the maximum 65535 (maximum)"},
      {"/nics/0/queues_planned", 18446744073709551615ull, false, "/nics/0/queues_planned", "(maximum)"},
      {"/nics/0/queues_current", "4", false, "/nics/0/queues_current", "is string, must be integer (type)"},
      {"/nics/0/queues_current", 1.5, false, "/nics/0/queues_current", "is number, must be integer (type)"},
      {"/nics/0/detail", json::array(), false, "/nics/0/detail", "is array, must be string (type)"},
      {"/nics", json::object(), false, "/nics", "is object, must be array (type)"},
      {"/nics/0/driver", nullptr, true, "/nics/0/driver", "is missing (required)"},
      {"/kernel/release", std::string(65, 'r'), false, "/kernel/release", "(maxLength)"},
      {"/kernel/driver_behaviour", "mine", false, "/kernel/driver_behaviour", "(enum)"},
      {"/kernel", nullptr, true, "/kernel", "is missing (required)"},
      {"/cpus/online", "0-3;rm -rf", false, "/cpus/online", "(pattern)"},
      {"/cpus/nr_cpu_ids", 0, false, "/cpus/nr_cpu_ids", "(minimum)"},
      {"/schema_version", "1", false, "/schema_version", "must be 1 (const)"},
      {"/command", "apply", false, "/command", "must be \"status\" (const)"},
      {"/irqbalance_running", "yes", false, "/irqbalance_running", "is string, must be boolean (type)"},
      {"/settings/0/kind", 5, false, "/settings/0/kind", "(enum)"},
      {"/settings/0/state", nullptr, true, "/settings/0/state", "is missing (required)"},
      {"/settings/0/queue", -1, false, "/settings/0/queue", "(minimum)"},
      {"/settings/0/current", std::string(70000, '0'), false, "/settings/0/current", "(maxLength)"},
      {"/notes", json::array({json::object()}), false, "/notes/0", "(type)"},
      {"/notes", json(std::vector<std::string>(65, "n")), false, "/notes", "has 65 items, more than 64 (maxItems)"},
      {"/softnet", json(std::vector<json>(8193, softnet_row)), false, "/softnet", "(maxItems)"},
      {"/softnet", json::array({{{"cpu", 0}, {"processed", 4294967296}, {"dropped", 0}, {"time_squeeze", 0}}}), false,
       "/softnet/0/processed", "(maximum)"},
      {"/summary/drift", -1, false, "/summary/drift", "(minimum)"},
      {"/journal_entries", true, false, "/journal_entries", "(type)"},
      {"/journal_error", std::string(8193, 'e'), false, "/journal_error", "(maxLength)"},
      {"/journal_error", 1, false, "/journal_error", "is integer, must be string (type)"},
      {"/last_apply", "yesterday", false, "/last_apply", "matches no allowed form (oneOf)"},
      {"/last_apply", {{"command", "apply"}, {"result", "evil"}, {"time", "t"}}, false, "/last_apply/result", "(enum)"},
      {"/load", load, false, "/load/nics/0/rx_queue_pps/x", "(propertyNames)"},
  };
  for (const auto& c : cases) {
    json doc = good;
    const json::json_pointer p(c.pointer);
    if (c.remove) doc.at(p.parent_pointer()).erase(p.back());
    else doc[p] = c.value;
    const auto v = validate_status(doc);
    ASSERT_TRUE(v.has_value()) << c.pointer << " = " << c.value.dump().substr(0, 80) << " passed";
    EXPECT_EQ(v->pointer, c.at) << v->text();
    EXPECT_NE(v->rule.find(c.rule), std::string::npos) << v->text();
  }
}

TEST(Schema, PatternsAreMatchedWithoutRegexAndExactly) {
  const json& cpulist = status_schema()["definitions"]["cpulist"];
  for (const char* ok : {"", "0", "0-3", "0-3,5,7-9", "12,14", "8191"})
    EXPECT_FALSE(validate(json(ok), cpulist, status_schema()).has_value()) << ok;
  for (const char* bad : {",", "0-", "-1", "0,,1", "a", "0-3,", "0 1", "0-3-4", "0x1"})
    EXPECT_TRUE(validate(json(bad), cpulist, status_schema()).has_value()) << bad;
  // A long hostile string is matched in one pass (std::regex would recurse per character).
  std::string long_list;
  for (int i = 0; i < 4096; ++i) long_list += std::to_string(2 * i) + ",";
  long_list.pop_back();
  EXPECT_FALSE(validate(json(long_list), cpulist, status_schema()).has_value());
}

}  // namespace
}  // namespace gn::test
