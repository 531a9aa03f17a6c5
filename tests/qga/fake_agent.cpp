#include "fake_agent.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace gn::test {

bool FakeAgent::Conn::send(const std::string& bytes) {
  if (fd_ < 0) return false;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void FakeAgent::Conn::send_slowly(const std::string& bytes) {
  for (char c : bytes) send(std::string(1, c));
}

void FakeAgent::Conn::reply(const nlohmann::json& request, const nlohmann::json& ret) {
  nlohmann::json r = {{"return", ret}};
  if (request.contains("id")) r["id"] = request["id"];
  send(r.dump() + "\n");
}

void FakeAgent::Conn::hang_up() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  fd_ = -1;
}

FakeAgent::FakeAgent(Handler h) : handler_(std::move(h)) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "gn-fake-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
  dir_ = tmpl;
  path_ = dir_ + "/qga.sock";
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size());
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 4) != 0)
    throw std::runtime_error("bind/listen " + path_);
  thread_ = std::thread([this] { serve(); });
}

FakeAgent::~FakeAgent() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  thread_.join();
  ::close(listen_fd_);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<nlohmann::json> FakeAgent::requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

void FakeAgent::serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Conn conn(fd);
    // Requests arrive without delimiters: split the stream into JSON objects by their braces.
    std::string pending;
    int depth = 0;
    bool in_string = false, escape = false;
    char buf[65536];
    while (!stop_ && !conn.closed()) {
      pollfd q{fd, POLLIN, 0};
      if (::poll(&q, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      for (ssize_t i = 0; i < n && !conn.closed(); ++i) {
        const char c = buf[i];
        if (depth == 0 && static_cast<unsigned char>(c) == 0xff) {
          std::lock_guard<std::mutex> l(mu_);
          requests_.push_back({{"sentinel", true}});
          continue;
        }
        if (depth == 0 && c != '{') continue;
        pending += c;
        if (in_string) {
          if (escape) escape = false;
          else if (c == '\\') escape = true;
          else if (c == '"') in_string = false;
          continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{') ++depth;
        else if (c == '}' && --depth == 0) {
          const auto req = nlohmann::json::parse(pending, nullptr, false);
          pending.clear();
          {
            std::lock_guard<std::mutex> l(mu_);
            requests_.push_back(req);
          }
          handler_(conn, req);
        }
      }
    }
    ::close(fd);
  }
}

FakeAgent::Handler FakeAgent::normal(nlohmann::json status) {
  return [status](Conn& c, const nlohmann::json& req) {
    const std::string cmd = req.value("execute", std::string());
    if (cmd == "guest-sync-delimited") {
      c.send("\xff" + nlohmann::json{{"return", req["arguments"]["id"]}}.dump() + "\n");
    } else if (cmd == "guest-info") {
      c.reply(req, {{"version", "7.2.0"},
                    {"supported_commands",
                     {{{"name", "guest-exec"}, {"enabled", true}}, {{"name", "guest-exec-status"}, {"enabled", true}}}}});
    } else if (cmd == "guest-exec") {
      c.reply(req, {{"pid", 4242}});
    } else if (cmd == "guest-exec-status") {
      c.reply(req, status);
    }
  };
}

}  // namespace gn::test
