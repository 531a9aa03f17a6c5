#include "socket_channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "guest_json.h"

namespace gn::qga {

SocketChannel::SocketChannel(std::string path, size_t max_line)
    : path_(std::move(path)), reader_(max_line), rng_(std::random_device{}()) {}

SocketChannel::~SocketChannel() { disconnect(); }

void SocketChannel::disconnect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  synced_ = false;
  reader_.clear();
}

ChannelError SocketChannel::failure(ChannelFailure kind, const std::string& what, int err) const {
  std::string hint;
  if (kind == ChannelFailure::NoAgent)
    hint = "is the VM running with an org.qemu.guest_agent.0 channel, and qemu-guest-agent running in the guest?";
  return ChannelError{kind, make_error(describe(), err ? what + ": " + std::strerror(err) : what, hint, err), {}};
}

ChannelResult<bool> SocketChannel::connect(Deadline deadline) {
  if (fd_ >= 0) return true;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) return failure(ChannelFailure::NoAgent, "socket path too long");
  std::memcpy(addr.sun_path, path_.c_str(), path_.size());
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return failure(ChannelFailure::NoAgent, "socket", errno);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    if (err != EINPROGRESS && err != EAGAIN) {
      disconnect();
      return failure(ChannelFailure::NoAgent, "connecting", err);
    }
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, deadline.remaining_ms()) <= 0) {
      disconnect();
      return failure(ChannelFailure::NoAgent, "connecting timed out");
    }
  }
  return true;
}

ChannelResult<bool> SocketChannel::send_all(const std::string& data, Deadline deadline) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      const int err = errno;
      disconnect();
      return failure(ChannelFailure::Closed, "sending", err);
    }
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, deadline.remaining_ms()) <= 0) {
      disconnect();
      return failure(ChannelFailure::NoAgent, "sending timed out (the agent does not read)");
    }
  }
  return true;
}

ChannelResult<bool> SocketChannel::receive(Deadline deadline) {
  char buf[ReplyReader::kMaxRead];
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, deadline.remaining_ms());
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      // Whatever arrives later belongs to a request we gave up on: sync again next time.
      synced_ = false;
      return failure(ChannelFailure::NoAgent, "no answer before the deadline");
    }
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
      if (reader_.overflowed()) {
        disconnect();
        return failure(ChannelFailure::BadReply, "a reply line is over " + std::to_string(reader_.max_line() >> 20) + " MiB");
      }
      return true;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    const int err = n < 0 ? errno : 0;
    disconnect();
    return failure(ChannelFailure::Closed, err ? "receiving" : "the agent closed the connection mid-reply", err);
  }
}

ChannelResult<bool> SocketChannel::sync(Deadline deadline) {
  if (auto c = connect(deadline); std::holds_alternative<ChannelError>(c)) return c;
  const long long id = static_cast<long long>(rng_() & 0x7fffffff);
  const std::string request =
      "\xff" + nlohmann::json{{"execute", "guest-sync-delimited"}, {"arguments", {{"id", id}}}}.dump();
  if (auto s = send_all(request, deadline); std::holds_alternative<ChannelError>(s)) return s;
  reader_.clear();  // nothing before our request can be ours
  while (true) {
    // Discard up to a sentinel, then take the line after it.
    while (!reader_.skip_past_sentinel())
      if (auto r = receive(deadline); std::holds_alternative<ChannelError>(r)) return r;
    std::optional<std::string> line;
    while (!(line = reader_.pop_line()))
      if (auto r = receive(deadline); std::holds_alternative<ChannelError>(r)) return r;
    const auto parsed = parse_guest_json(*line);
    if (!parsed) continue;  // not our reply: look for the next sentinel
    const nlohmann::json& j = *parsed;
    if (j.is_object() && j.contains("return") && j["return"].is_number_integer() && j["return"].get<long long>() == id) {
      synced_ = true;
      return true;
    }
    // A stale sentinel and reply from an earlier client: look for the next one.
  }
}

ChannelResult<nlohmann::json> SocketChannel::call(const std::string& command, const nlohmann::json& args,
                                                  Deadline deadline) {
  if (!synced_)
    if (auto s = sync(deadline); std::holds_alternative<ChannelError>(s)) return std::get<ChannelError>(s);
  const std::string id = "gn-" + std::to_string(++seq_) + "-" + std::to_string(rng_() & 0xffffff);
  nlohmann::json req = {{"execute", command}, {"id", id}};
  if (!args.is_null()) req["arguments"] = args;
  if (auto s = send_all(req.dump(), deadline); std::holds_alternative<ChannelError>(s))
    return std::get<ChannelError>(s);
  while (true) {
    std::optional<std::string> line;
    while (!(line = reader_.pop_line()))
      if (auto r = receive(deadline); std::holds_alternative<ChannelError>(r)) return std::get<ChannelError>(r);
    // A 0xFF left from a sync reply can lead a line: it is not part of the JSON.
    std::string_view text(*line);
    while (!text.empty() && static_cast<unsigned char>(text.front()) == 0xff) text.remove_prefix(1);
    if (text.empty()) continue;
    auto parsed = parse_guest_json(text);
    line.reset();  // up to kMaxLine: not kept beside its parsed value
    if (!parsed || !parsed->is_object()) {
      disconnect();
      return failure(ChannelFailure::BadReply, "the agent's reply to " + command + " " +
                                                   (parsed ? std::string("is not a JSON object") : parsed.error().message));
    }
    nlohmann::json& j = *parsed;
    // Replies carry our id back; one with another id was meant for an earlier request.
    if (j.contains("id") && j["id"] != id) continue;
    if (j.contains("return")) return std::move(j["return"]);  // a 40 MiB reply is not copied
    if (j.contains("error")) {
      const auto& e = j["error"];
      ChannelError ce{ChannelFailure::CommandError,
                      make_error(command, e.value("desc", std::string("error without a description"))),
                      e.value("class", std::string())};
      return ce;
    }
  }
}

}  // namespace gn::qga
