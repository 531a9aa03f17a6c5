// The agent through libvirt (virDomainQemuAgentCommand), for libvirt-managed domains: libvirt
// holds the agent's socket, does the sync handshake itself and caps a reply at 10 MiB.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent_channel.h"

namespace gn::qga {

class LibvirtConnection {
 public:
  // Opens URI (e.g. qemu:///system); the error says what libvirt said.
  static Result<std::shared_ptr<LibvirtConnection>> open(const std::string& uri);
  ~LibvirtConnection();
  // Names of the running domains.
  Result<std::vector<std::string>> running_domains();
  void* raw() const { return conn_; }
  const std::string& uri() const { return uri_; }

 private:
  LibvirtConnection(void* c, std::string uri) : conn_(c), uri_(std::move(uri)) {}
  void* conn_;
  std::string uri_;
};

class LibvirtChannel : public AgentChannel {
 public:
  // Looks the domain up by name or UUID; errors: no such domain (code ENOENT).
  static Result<std::unique_ptr<LibvirtChannel>> open(std::shared_ptr<LibvirtConnection> conn, const std::string& domain);
  ~LibvirtChannel() override;
  ChannelResult<nlohmann::json> call(const std::string& command, const nlohmann::json& args,
                                     Deadline deadline) override;
  std::string describe() const override { return "domain " + name_ + " (" + conn_->uri() + ")"; }

 private:
  LibvirtChannel(std::shared_ptr<LibvirtConnection> c, void* dom, std::string name)
      : conn_(std::move(c)), dom_(dom), name_(std::move(name)) {}
  std::shared_ptr<LibvirtConnection> conn_;
  void* dom_;
  std::string name_;
};

}  // namespace gn::qga
