// AgentChannel: one qemu-guest-agent command in, its reply out. The unix-socket channel does
// the sync handshake itself; a libvirt channel (virDomainQemuAgentCommand) would leave that to
// libvirt. Everything above (guest-info, guest-exec) is written against this interface.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "deadline.h"
#include "result.h"

namespace gn::qga {

// Error codes the channels use, so that callers can say what failed.
enum class ChannelFailure {
  None,
  NoAgent,      // nothing to connect to, or nothing answered in time
  Closed,       // the connection closed under us
  CommandError, // the agent answered with {"error": ...}
  BadReply,     // not JSON, or over the size limit
};

struct ChannelError {
  ChannelFailure kind = ChannelFailure::None;
  Error error;
  std::string error_class;  // for CommandError: "CommandNotFound", "GenericError", ...
};

template <class T>
using ChannelResult = std::variant<T, ChannelError>;

class AgentChannel {
 public:
  virtual ~AgentChannel() = default;
  // Sends {"execute": command, "arguments": args} and returns the "return" member.
  virtual ChannelResult<nlohmann::json> call(const std::string& command, const nlohmann::json& args,
                                             Deadline deadline) = 0;
  // Where the agent is, for messages ("socket /run/qga.sock").
  virtual std::string describe() const = 0;
};

}  // namespace gn::qga
