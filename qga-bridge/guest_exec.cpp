#include "guest_exec.h"

#include <thread>

#include "base64.h"

namespace gn::qga {

std::string exec_enablement_hint() {
  return "enable guest-exec and guest-exec-status in the guest's qemu-guest-agent: on RHEL/CentOS 7-8 remove "
         "them from BLACKLIST_RPC in /etc/sysconfig/qemu-ga, on 9.x from BLOCK_RPCS (or add them to "
         "--allow-rpcs / FILTER_RPC_ARGS on 9.4+), then restart qemu-guest-agent; Debian and Ubuntu allow them "
         "by default";
}

namespace {

ExecFailure failure_of(const ChannelError& e) {
  switch (e.kind) {
    case ChannelFailure::NoAgent:
    case ChannelFailure::Closed: return ExecFailure::NoAgent;
    default: return ExecFailure::BadReply;
  }
}

ExecError from_channel(const ChannelError& e) { return {failure_of(e), e.error}; }

// Decodes one captured stream; absent means empty. The base64 text is freed once decoded (it
// is up to 21 MiB per stream).
bool decode_stream(nlohmann::json& st, const char* data_key, const char* trunc_key, std::string& out,
                   bool& truncated, Error& err) {
  if (st.contains(data_key)) {
    if (!st[data_key].is_string()) {
      err = make_error(data_key, "is not a string");
      return false;
    }
    auto d = base64_decode(st[data_key].get_ref<const std::string&>());
    st[data_key] = nullptr;
    if (!d) {
      err = make_error(data_key, d.error().message);
      return false;
    }
    out = std::move(*d);
  }
  truncated = (st.contains(trunc_key) && st[trunc_key].is_boolean() && st[trunc_key].get<bool>()) ||
              out.size() >= kOutputCap;
  return true;
}

}  // namespace

ExecOutcome run_in_guest(AgentChannel& channel, const std::string& path, const std::vector<std::string>& args,
                         Deadline deadline) {
  // 1. Is guest-exec there and enabled? (Asked, not guessed from error text, which varies.)
  auto info = channel.call("guest-info", nullptr, deadline);
  if (auto* e = std::get_if<ChannelError>(&info)) return from_channel(*e);
  const auto& ret = std::get<nlohmann::json>(info);
  bool exec_ok = false, status_ok = false;
  if (ret.is_object() && ret.contains("supported_commands") && ret["supported_commands"].is_array()) {
    for (const auto& c : ret["supported_commands"]) {
      if (!c.is_object() || !c.contains("name") || !c["name"].is_string()) continue;
      const bool enabled = c.value("enabled", false);
      if (c["name"] == "guest-exec") exec_ok = enabled;
      if (c["name"] == "guest-exec-status") status_ok = enabled;
    }
  } else {
    return ExecError{ExecFailure::BadReply, make_error(channel.describe(), "guest-info returned no command list")};
  }
  if (!exec_ok || !status_ok)
    return ExecError{ExecFailure::ExecDisabled,
                     make_error(channel.describe(),
                                std::string("the guest agent has ") + (!exec_ok ? "guest-exec" : "guest-exec-status") +
                                    " disabled",
                                exec_enablement_hint())};

  // 2. Start it, with an environment of our own (it replaces the guest's whole environment).
  nlohmann::json a = {{"path", path},
                      {"arg", args},
                      {"env", {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}},
                      {"capture-output", true}};
  auto started = channel.call("guest-exec", a, deadline);
  if (auto* e = std::get_if<ChannelError>(&started)) {
    if (e->kind != ChannelFailure::CommandError) return from_channel(*e);
    if (e->error_class == "CommandNotFound")
      return ExecError{ExecFailure::ExecDisabled, make_error(channel.describe(), e->error.message, exec_enablement_hint())};
    return ExecError{ExecFailure::ProgramMissing,
                     make_error(path, "could not be started in the guest: " + e->error.message)};
  }
  const auto& s = std::get<nlohmann::json>(started);
  if (!s.is_object() || !s.contains("pid") || !s["pid"].is_number_integer())
    return ExecError{ExecFailure::BadReply, make_error(channel.describe(), "guest-exec returned no pid")};
  const long long pid = s["pid"].get<long long>();

  // 3. Poll until it exits; backoff from 10 ms to 500 ms between polls.
  std::chrono::milliseconds pause(10);
  while (true) {
    auto st = channel.call("guest-exec-status", {{"pid", pid}}, deadline);
    if (auto* e = std::get_if<ChannelError>(&st)) return from_channel(*e);
    auto& j = std::get<nlohmann::json>(st);
    if (!j.is_object() || !j.contains("exited") || !j["exited"].is_boolean())
      return ExecError{ExecFailure::BadReply, make_error(channel.describe(), "guest-exec-status without 'exited'")};
    if (j["exited"].get<bool>()) {
      // This call reaped the process: its status is gone from the agent now.
      ExecResult r;
      if (j.contains("exitcode") && j["exitcode"].is_number_integer()) r.exit_code = j["exitcode"].get<int>();
      if (j.contains("signal") && j["signal"].is_number_integer()) r.signal = j["signal"].get<int>();
      Error err;
      if (!decode_stream(j, "out-data", "out-truncated", r.out, r.out_truncated, err) ||
          !decode_stream(j, "err-data", "err-truncated", r.err, r.err_truncated, err))
        return ExecError{ExecFailure::BadReply, make_error(channel.describe(), "guest-exec-status " + err.text())};
      return r;
    }
    if (deadline.passed() || deadline.remaining_ms() < pause.count())
      return ExecError{ExecFailure::Timeout,
                       make_error(path, "still running in the guest (pid " + std::to_string(pid) + ") at the deadline",
                                  "raise --timeout")};
    std::this_thread::sleep_for(pause);  // the agent offers no way to wait for an exit
    pause = std::min(pause * 2, std::chrono::milliseconds(500));
  }
}

}  // namespace gn::qga
