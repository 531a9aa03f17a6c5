// A scripted stand-in for qemu-guest-agent on a unix socket, for what the real agent will not
// do on demand: stay silent, send garbage, stale replies, split or huge lines, hang up.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace gn::test {

class FakeAgent {
 public:
  // The handler sees each request the client sends and answers through the connection.
  class Conn {
   public:
    explicit Conn(int fd) : fd_(fd) {}
    bool send(const std::string& bytes);  // false once the client has gone
    void send_slowly(const std::string& bytes);  // one byte per write
    void reply(const nlohmann::json& request, const nlohmann::json& ret);  // {"return": ret, "id": ...}
    void hang_up();
    bool closed() const { return fd_ < 0; }

   private:
    int fd_;
  };
  using Handler = std::function<void(Conn&, const nlohmann::json& request)>;

  explicit FakeAgent(Handler h);
  // Listens on `socket_path` (its directory must exist; the socket is removed at the end).
  FakeAgent(Handler h, std::string socket_path);
  ~FakeAgent();
  const std::string& socket_path() const { return path_; }
  // Requests received so far (the 0xFF is recorded as {"sentinel": true}).
  std::vector<nlohmann::json> requests() const;

  // A handler that behaves like qemu-ga for sync, guest-info, guest-exec and guest-exec-status,
  // with `status` as the reply to the first guest-exec-status call.
  static Handler normal(nlohmann::json status);
  // A guest-exec-status reply: exited with `code`, `out` as its captured output.
  static nlohmann::json exited(const std::string& out, int code = 0);
  // A schema-1 status document like a 4-vCPU guest with one tunable NIC sends (`drift` settings
  // drifted on eth0).
  static nlohmann::json sample_status(int drift = 0);
  // Fleet characters (tests/qga/test_fleet.cpp, bench/fleet_all.sh):
  static Handler mute();                                      // reads, never answers
  static Handler garbage();                                   // syncs, then answers with non-JSON
  // Like normal(), but the program "runs" for `seconds` (guest-exec-status says exited: false).
  static Handler slow(nlohmann::json status, double seconds);
  // Answers the sync, then floods: one endless line without a newline until the client leaves.
  static Handler flood();

 private:
  void listen_on(const std::string& path);
  void serve();
  std::string dir_, path_;
  int listen_fd_ = -1;
  Handler handler_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<nlohmann::json> requests_;
};

}  // namespace gn::test
