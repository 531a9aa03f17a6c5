// DomainSource over a libvirt connection: persistent domain XML, network bridges, capabilities,
// the hypervisor's version, and the agent channel of running domains.
#pragma once

#include <memory>

#include "advise.h"
#include "libvirt_channel.h"

namespace gn::advise {

class LibvirtSource : public DomainSource {
 public:
  explicit LibvirtSource(std::shared_ptr<qga::LibvirtConnection> conn) : conn_(std::move(conn)) {}
  std::string uri() const override { return conn_->uri(); }
  Result<std::vector<std::string>> domain_names() override;
  Result<std::string> domain_xml(const std::string& name) override;
  Result<std::string> network_bridge(const std::string& network) override;
  Result<std::string> capabilities() override;
  std::optional<unsigned long> hypervisor_version() override;
  Result<std::unique_ptr<qga::AgentChannel>> agent(const std::string& name) override;

 private:
  std::shared_ptr<qga::LibvirtConnection> conn_;
};

}  // namespace gn::advise
