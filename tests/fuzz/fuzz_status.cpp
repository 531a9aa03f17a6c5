// libFuzzer: whatever guest-nettune prints in a hostile guest, the host's path from its output to
// the operator's terminal (bounded JSON parse, schema check, table and --json rendering) must
// neither crash nor recurse without bound, and nothing it prints may carry a byte a terminal acts
// on. The input is the guest program's stdout, handed over as a qemu-guest-agent would.
// fuzz-links: qgabridge
#include <sstream>

#include "base64.h"
#include "guest_json.h"
#include "host_cli.h"
#include "neutralise.h"
#include "schema.h"
#include "../qga/terminal_hazard.h"

namespace {

using nlohmann::json;

// Answers like qemu-ga, with the fuzz input as the program's stdout.
class ScriptedAgent : public gn::qga::AgentChannel {
 public:
  explicit ScriptedAgent(std::string_view out) : out_(out) {}
  gn::qga::ChannelResult<json> call(const std::string& command, const json&, gn::qga::Deadline) override {
    if (command == "guest-info")
      return json{{"supported_commands",
                   {{{"name", "guest-exec"}, {"enabled", true}}, {{"name", "guest-exec-status"}, {"enabled", true}}}}};
    if (command == "guest-exec") return json{{"pid", 1}};
    return json{{"exited", true}, {"exitcode", 0}, {"out-data", gn::qga::base64_encode(out_)}};
  }
  std::string describe() const override { return "fuzz"; }

 private:
  std::string_view out_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gn::qga;
  using gn::dump_for_people;
  using gn::neutralise;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  // The neutraliser on raw bytes: nothing hazardous, and never shorter than its input.
  const std::string shown = neutralise(in);
  if (!gn::test::first_hazard(shown).empty() || shown.size() < in.size()) __builtin_trap();

  // The validator on whatever parses; the parse refuses deep nesting before anything recurses.
  if (auto doc = parse_guest_json(in); doc && doc->is_object()) {
    (void)validate_status(*doc);
    (void)validate_definition(*doc, "plan_output");
    (void)validate_definition(*doc, "changes_output");
    if (!gn::test::first_hazard(dump_for_people(*doc), true).empty()) __builtin_trap();
  }

  // The whole host path: status and plan as a table and as JSON, and apply's change list.
  for (const char* command : {"status", "plan", "apply"})
    for (const bool as_json : {false, true}) {
      HostOptions o;
      o.socket = "fuzz";
      o.command = command;
      o.json = as_json;
      ScriptedAgent agent(in);
      std::ostringstream out, err;
      (void)run_host_command(o, agent, out, err);
      if (!gn::test::first_hazard(out.str(), true).empty() || !gn::test::first_hazard(err.str(), true).empty())
        __builtin_trap();
    }
  return 0;
}
