#include "fake_agent.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <filesystem>
#include <stdexcept>

#include "base64.h"

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
  listen_on(dir_ + "/qga.sock");
}

FakeAgent::FakeAgent(Handler h, std::string socket_path) : handler_(std::move(h)) { listen_on(socket_path); }

void FakeAgent::listen_on(const std::string& path) {
  path_ = path;
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + path_);
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
  if (dir_.empty()) std::filesystem::remove(path_, ec);
  else std::filesystem::remove_all(dir_, ec);
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

nlohmann::json FakeAgent::exited(const std::string& out, int code) {
  return {{"exited", true}, {"exitcode", code}, {"out-data", qga::base64_encode(out)}};
}

nlohmann::json FakeAgent::sample_status(int drift) {
  using nlohmann::json;
  json settings = json::array();
  for (int q = 0; q < 4; ++q)
    settings.push_back({{"kind", "xps_cpus"}, {"nic", "eth0"}, {"queue", q},
                        {"target", "/sys/class/net/eth0/queues/tx-" + std::to_string(q) + "/xps_cpus"},
                        {"current", q < drift ? "0" : std::to_string(1 << q)}, {"desired", std::to_string(1 << q)},
                        {"action", q < drift ? "write" : "keep"}, {"state", q < drift ? "drift" : "ok"},
                        {"reason", "one CPU per queue"}});
  settings.push_back({{"kind", "sysctl"}, {"nic", ""}, {"target", "/proc/sys/net/core/netdev_budget"},
                      {"current", "50000"}, {"desired", "50000"}, {"action", "keep"}, {"state", "ok"},
                      {"reason", "throughput profile"}});
  return {{"schema_version", 1},
          {"command", "status"},
          {"profile", "throughput"},
          {"kernel", {{"release", "6.1.0-28-cloud-amd64"}, {"driver_behaviour", "driver-stripes-xps"}, {"evidence", "6.1"}}},
          {"cpus", {{"nr_cpu_ids", 4}, {"online", "0-3"}, {"isolated", ""}, {"usable", "0-3"}, {"numa_nodes", {"0-3"}},
                    {"smt_cores", 0}}},
          {"irqbalance_running", false},
          {"nics", {{{"name", "eth0"}, {"role", "tunable"}, {"driver", "virtio_net"}, {"detail", ""},
                     {"queues_current", 4}, {"queues_planned", 4}, {"queues_max", 4}}}},
          {"settings", settings},
          {"notes", json::array()},
          {"summary", {{"ok", 5 - drift}, {"drift", drift}, {"not_applicable", 0}}},
          {"last_apply", {{"command", "apply"}, {"result", "ok"}, {"time", "2026-11-27T10:00:00Z"}, {"epoch", 1795773600}}},
          {"journal_entries", 5},
          {"softnet", {{{"cpu", 0}, {"processed", 100}, {"dropped", 3}, {"time_squeeze", 1}},
                       {{"cpu", 1}, {"processed", 100}, {"dropped", 4}, {"time_squeeze", 0}}}},
          {"load", nullptr}};
}

FakeAgent::Handler FakeAgent::mute() {
  return [](Conn&, const nlohmann::json&) {};
}

FakeAgent::Handler FakeAgent::garbage() {
  return [](Conn& c, const nlohmann::json& req) {
    if (req.value("execute", std::string()) == "guest-sync-delimited")
      c.send("\xff" + nlohmann::json{{"return", req["arguments"]["id"]}}.dump() + "\n");
    else
      c.send("\x01not json at all {{{\n");
  };
}

FakeAgent::Handler FakeAgent::slow(nlohmann::json status, double seconds) {
  auto normal_handler = normal(status);
  auto started = std::make_shared<std::chrono::steady_clock::time_point>();
  return [normal_handler, started, seconds](Conn& c, const nlohmann::json& req) {
    const std::string cmd = req.value("execute", std::string());
    if (cmd == "guest-exec") *started = std::chrono::steady_clock::now();
    if (cmd == "guest-exec-status" &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - *started).count() < seconds) {
      c.reply(req, {{"exited", false}});
      return;
    }
    normal_handler(c, req);
  };
}

FakeAgent::Handler FakeAgent::flood() {
  return [](Conn& c, const nlohmann::json& req) {
    if (req.value("execute", std::string()) == "guest-sync-delimited") {
      c.send("\xff" + nlohmann::json{{"return", req["arguments"]["id"]}}.dump() + "\n");
      return;
    }
    // The start of a reply whose line never ends, sent until the client hangs up.
    c.send("{\"return\": {\"supported_commands\": \"");
    const std::string chunk(1 << 16, 'A');
    while (!c.closed() && c.send(chunk)) {
    }
  };
}

}  // namespace gn::test
