#include "libvirt_channel.h"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cerrno>
#include <cstdlib>

#include "guest_json.h"

namespace gn::qga {

namespace {
// libvirt's last error as text; its own logging to stderr is silenced once.
std::string last_error(int* code = nullptr) {
  const virErrorPtr e = virGetLastError();
  if (code) *code = e ? e->code : 0;
  return e && e->message ? e->message : "unknown libvirt error";
}

void quiet_libvirt() {
  static const bool once = [] {
    virSetErrorFunc(nullptr, [](void*, virErrorPtr) {});
    return true;
  }();
  (void)once;
}
}  // namespace

Result<std::shared_ptr<LibvirtConnection>> LibvirtConnection::open(const std::string& uri) {
  quiet_libvirt();
  virConnectPtr c = virConnectOpen(uri.c_str());
  if (c == nullptr)
    return make_error("libvirt " + uri, "cannot connect: " + last_error(),
                      "is libvirtd running, and may this user use " + uri + "?", ECONNREFUSED);
  return std::shared_ptr<LibvirtConnection>(new LibvirtConnection(c, uri));
}

LibvirtConnection::~LibvirtConnection() { virConnectClose(static_cast<virConnectPtr>(conn_)); }

Result<std::vector<std::string>> LibvirtConnection::running_domains() {
  virDomainPtr* doms = nullptr;
  const int n = virConnectListAllDomains(static_cast<virConnectPtr>(conn_), &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
  if (n < 0) return make_error("libvirt " + uri_, "listing domains: " + last_error());
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    if (const char* name = virDomainGetName(doms[i])) names.emplace_back(name);
    virDomainFree(doms[i]);
  }
  std::free(doms);
  return names;
}

Result<std::unique_ptr<LibvirtChannel>> LibvirtChannel::open(std::shared_ptr<LibvirtConnection> conn,
                                                             const std::string& domain) {
  auto* c = static_cast<virConnectPtr>(conn->raw());
  virDomainPtr dom = virDomainLookupByName(c, domain.c_str());
  if (dom == nullptr) dom = virDomainLookupByUUIDString(c, domain.c_str());
  if (dom == nullptr)
    return make_error("domain " + domain, "not found on " + conn->uri(), "see `virsh -c " + conn->uri() + " list --all`",
                      ENOENT);
  const char* name = virDomainGetName(dom);
  return std::unique_ptr<LibvirtChannel>(new LibvirtChannel(std::move(conn), dom, name ? name : domain));
}

LibvirtChannel::~LibvirtChannel() { virDomainFree(static_cast<virDomainPtr>(dom_)); }

ChannelResult<nlohmann::json> LibvirtChannel::call(const std::string& command, const nlohmann::json& args,
                                                   Deadline deadline) {
  auto* dom = static_cast<virDomainPtr>(dom_);
  const auto fail = [&](ChannelFailure kind, const std::string& what, const std::string& hint = {}) {
    return ChannelError{kind, make_error(describe(), what, hint), {}};
  };
  const int active = virDomainIsActive(dom);
  if (active == 0)
    return fail(ChannelFailure::NoAgent, "the domain is shut off", "start it: virsh -c " + conn_->uri() + " start " + name_);
  nlohmann::json req = {{"execute", command}};
  if (!args.is_null()) req["arguments"] = args;
  // Our deadline as libvirt's timeout (whole seconds, at least one).
  const int timeout = std::max(1, deadline.remaining_ms() / 1000);
  char* reply = virDomainQemuAgentCommand(dom, req.dump().c_str(), timeout, 0);
  if (reply == nullptr) {
    int code = 0;
    const std::string msg = last_error(&code);
    switch (code) {
      case VIR_ERR_OPERATION_INVALID:
        return fail(ChannelFailure::NoAgent, msg, "start the domain");
      case VIR_ERR_ARGUMENT_UNSUPPORTED:
        return fail(ChannelFailure::NoAgent, msg,
                    "give the domain an agent channel: <channel type='unix'><target type='virtio' "
                    "name='org.qemu.guest_agent.0'/></channel>, and run qemu-guest-agent in the guest");
      case VIR_ERR_AGENT_UNRESPONSIVE:
      case VIR_ERR_AGENT_UNSYNCED:
        return fail(ChannelFailure::NoAgent, msg, "is qemu-guest-agent running in the guest?");
      default:
        break;
    }
    // libvirt 9: "No complete agent response found in 10485760 bytes".
    if (msg.find("No complete agent response") != std::string::npos || msg.find("too large") != std::string::npos)
      return fail(ChannelFailure::BadReply, "the guest's reply to " + command + " is over libvirt's 10 MiB limit (" + msg + ")",
                  "narrow guest-nettune's output with --interface; libvirt now treats the agent as failed until it "
                  "reconnects (restart qemu-guest-agent in the guest)");
    // The agent answered {"error": ...}: libvirt folds it into its message.
    ChannelError ce{ChannelFailure::CommandError, make_error(command, msg), {}};
    if (msg.find("has been disabled") != std::string::npos || msg.find("not been found") != std::string::npos)
      ce.error_class = "CommandNotFound";
    return ce;
  }
  auto parsed = parse_guest_json(reply);
  std::free(reply);
  if (!parsed) return fail(ChannelFailure::BadReply, "the agent's reply to " + command + " " + parsed.error().message);
  if (!parsed->is_object() || !parsed->contains("return"))
    return fail(ChannelFailure::BadReply, "libvirt returned an agent reply without \"return\"");
  return std::move((*parsed)["return"]);
}

}  // namespace gn::qga
