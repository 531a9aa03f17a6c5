// The agent's chardev as a unix socket (a plain QEMU chardev, Proxmox's
// /var/run/qemu-server/ID.qga, a libvirt channel path when libvirt is not attached).
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "agent_channel.h"
#include "reply_reader.h"

namespace gn::qga {

class SocketChannel : public AgentChannel {
 public:
  // max_line caps one reply line (memory per channel); over it, the reply is refused.
  explicit SocketChannel(std::string path, size_t max_line = ReplyReader::kMaxLine);
  ~SocketChannel() override;
  SocketChannel(const SocketChannel&) = delete;
  SocketChannel& operator=(const SocketChannel&) = delete;

  ChannelResult<nlohmann::json> call(const std::string& command, const nlohmann::json& args,
                                     Deadline deadline) override;
  std::string describe() const override { return "socket " + path_; }

  // Connects (if needed) and syncs: 0xFF, then guest-sync-delimited with a fresh id; input is
  // discarded up to a 0xFF and only {"return": id} right after it is accepted. Done on every
  // connect and after any timeout, so replies meant for earlier clients are never taken.
  ChannelResult<bool> sync(Deadline deadline);

 private:
  ChannelResult<bool> connect(Deadline deadline);
  ChannelResult<bool> send_all(const std::string& data, Deadline deadline);
  // Reads more bytes into the reader; a ChannelError on timeout or close.
  ChannelResult<bool> receive(Deadline deadline);
  void disconnect();
  ChannelError failure(ChannelFailure kind, const std::string& what, int err = 0) const;

  std::string path_;
  int fd_ = -1;
  bool synced_ = false;
  ReplyReader reader_;
  std::mt19937_64 rng_;
  uint64_t seq_ = 0;
};

}  // namespace gn::qga
