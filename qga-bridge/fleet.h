// The fleet: every guest of this host asked at once (status --all). At most `parallel` guests are
// in flight; each has its own deadline and the whole run one more, so one dead, slow or hostile
// guest costs only its own row. Guests come from libvirt (every running domain) or from sockets
// matching a glob (Proxmox's /var/run/qemu-server/*.qga, plain QEMU chardevs).
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent_channel.h"

namespace gn::qga {

// How a guest's answer came out; each has the exit code the single-guest command would give.
enum class GuestClass { Ok, NoAgent, Timeout, ExecDisabled, AgentMissing, AgentFailed, BadReply };
inline constexpr GuestClass kGuestClasses[] = {GuestClass::Ok,           GuestClass::NoAgent,     GuestClass::Timeout,
                                               GuestClass::ExecDisabled, GuestClass::AgentMissing, GuestClass::AgentFailed,
                                               GuestClass::BadReply};
const char* to_string(GuestClass c);            // "ok", "no_agent", "timeout", ...
std::optional<GuestClass> guest_class_from_string(const std::string& s);
int exit_code_of(GuestClass c);                 // 0, 10, 10, 11, 12, 13, 14

// One guest to ask: its row name and how to open its channel (called in a worker thread).
struct GuestSource {
  std::string name;
  std::function<Result<std::unique_ptr<AgentChannel>>()> open;
};

// What was learned from one guest. Strings that came from the guest are kept as received; the
// renderers neutralise them.
struct GuestRow {
  std::string name;
  GuestClass cls = GuestClass::NoAgent;
  std::string error;                 // why, when cls != Ok
  bool reachable = false;            // its qemu-guest-agent answered
  std::optional<bool> exec_enabled;  // known once guest-info answered
  std::optional<int> agent_exit;     // guest-nettune's own exit code, when it ran
  nlohmann::json status;             // the status document (object) when cls == Ok, else null
  double seconds = 0;                // how long this guest took
};

struct FleetOptions {
  unsigned parallel = 16;
  double per_guest_seconds = 30;
  double overall_seconds = 300;
  std::string guest_path = "/usr/sbin/guest-nettune";
  std::vector<std::string> agent_args;  // after "status --json"
};

// Asks every guest; rows in the order of `guests`. Never throws for what a guest sends.
std::vector<GuestRow> ask_fleet(const std::vector<GuestSource>& guests, const FleetOptions& o);

// One guest, the way ask_fleet asks each of them (also used for a single --prometheus status).
GuestRow ask_guest(const std::string& name, AgentChannel& channel, const FleetOptions& o, Deadline deadline);

// Sockets matching GLOB, sorted; an error when the pattern is bad or the directory unreadable.
Result<std::vector<std::string>> sockets_matching(const std::string& glob);

// A reply line cap for --all --sockets runs (libvirt reads its own replies): a guest's status is
// kilobytes to a few hundred (64 vCPUs, 4 NICs of 64 queues: about 300 KiB of base64); 16
// flooding guests at this cap stay within half the host tool's 128 MB budget.
inline constexpr size_t kFleetMaxLine = size_t{4} << 20;

}  // namespace gn::qga
