#include "libvirt_source.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

namespace gn::advise {

namespace {
std::string last_error() {
  const virErrorPtr e = virGetLastError();
  return e && e->message ? e->message : "unknown libvirt error";
}
virConnectPtr raw(const std::shared_ptr<qga::LibvirtConnection>& c) { return static_cast<virConnectPtr>(c->raw()); }

// A domain by name or UUID; freed on scope exit.
struct Dom {
  virDomainPtr p = nullptr;
  Dom(virConnectPtr c, const std::string& name) {
    p = virDomainLookupByName(c, name.c_str());
    if (!p) p = virDomainLookupByUUIDString(c, name.c_str());
  }
  ~Dom() {
    if (p) virDomainFree(p);
  }
  Dom(const Dom&) = delete;
  Dom& operator=(const Dom&) = delete;
};
}  // namespace

Result<std::vector<std::string>> LibvirtSource::domain_names() {
  virDomainPtr* doms = nullptr;
  const int n = virConnectListAllDomains(raw(conn_), &doms, 0);
  if (n < 0) return make_error("libvirt " + uri(), "listing domains: " + last_error());
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    if (const char* name = virDomainGetName(doms[i])) names.emplace_back(name);
    virDomainFree(doms[i]);
  }
  std::free(doms);
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::string> LibvirtSource::domain_xml(const std::string& name) {
  Dom d(raw(conn_), name);
  if (!d.p)
    return make_error("domain " + name, "not found on " + uri(), "see `virsh -c " + uri() + " list --all`", ENOENT);
  char* xml = virDomainGetXMLDesc(d.p, VIR_DOMAIN_XML_INACTIVE);
  if (!xml) return make_error("domain " + name, "reading its definition: " + last_error());
  std::string out(xml);
  std::free(xml);
  return out;
}

Result<std::string> LibvirtSource::network_bridge(const std::string& network) {
  virNetworkPtr n = virNetworkLookupByName(raw(conn_), network.c_str());
  if (!n) return make_error("network " + network, "not found on " + uri());
  char* b = virNetworkGetBridgeName(n);
  virNetworkFree(n);
  if (!b) return make_error("network " + network, "has no bridge: " + last_error());
  std::string out(b);
  std::free(b);
  return out;
}

Result<std::string> LibvirtSource::capabilities() {
  char* caps = virConnectGetCapabilities(raw(conn_));
  if (!caps) return make_error("libvirt " + uri(), "reading capabilities: " + last_error());
  std::string out(caps);
  std::free(caps);
  return out;
}

std::optional<unsigned long> LibvirtSource::hypervisor_version() {
  unsigned long v = 0;
  if (virConnectGetVersion(raw(conn_), &v) < 0 || v == 0) return std::nullopt;
  return v;
}

Result<std::unique_ptr<qga::AgentChannel>> LibvirtSource::agent(const std::string& name) {
  {
    Dom d(raw(conn_), name);
    if (!d.p) return make_error("domain " + name, "not found on " + uri(), {}, ENOENT);
    if (virDomainIsActive(d.p) != 1) return make_error("domain " + name, "not running");
  }
  auto ch = qga::LibvirtChannel::open(conn_, name);
  if (!ch) return ch.error();
  return std::unique_ptr<qga::AgentChannel>(std::move(*ch));
}

}  // namespace gn::advise
