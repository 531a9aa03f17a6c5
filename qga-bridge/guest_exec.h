// Running a program in the guest through qemu-guest-agent: guest-info first (is guest-exec
// enabled?), guest-exec with captured output and an explicit environment, guest-exec-status
// polled with backoff until it exits; the status call that sees it exited reaps it.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "agent_channel.h"
#include "reply_reader.h"

namespace gn::qga {

struct ExecResult {
  std::optional<int> exit_code;  // exited normally
  std::optional<int> signal;     // killed by a signal
  std::string out, err;
  bool out_truncated = false, err_truncated = false;
};

enum class ExecFailure {
  NoAgent,         // nothing answers on the channel
  ExecDisabled,    // guest-exec or guest-exec-status disabled or missing
  ProgramMissing,  // the agent could not start the program
  BadReply,        // the agent answered something unusable
  Timeout,         // the program did not finish before the deadline
};

struct ExecError {
  ExecFailure kind;
  Error error;
};

using ExecOutcome = std::variant<ExecResult, ExecError>;

// qemu-ga caps each captured stream at 16 MiB; output that long is treated as cut short,
// whatever the flag says (the flag was wrong before 2025 fixes). The reply reader's line cap is
// made from the same figure.
inline constexpr size_t kOutputCap = ReplyReader::kExecStreamCap;

ExecOutcome run_in_guest(AgentChannel& channel, const std::string& path, const std::vector<std::string>& args,
                         Deadline deadline);

// What to tell an operator whose guest blocks guest-exec.
std::string exec_enablement_hint();

}  // namespace gn::qga
