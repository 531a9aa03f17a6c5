// fake-fleet DIR KIND:COUNT...: scripted qemu-guest-agents on unix sockets DIR/KIND-NNN.sock,
// for the benchmark and the Prometheus test. Kinds: ok, drift (2 settings drifted), mute,
// garbage, slow (its program runs 0.5 s), flood; "named:NAME" is one ok agent on DIR/NAME.sock.
// Writes DIR/ready when every socket listens; serves until SIGTERM or SIGINT.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "fake_agent.h"

using gn::test::FakeAgent;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fake-fleet DIR KIND:COUNT... (ok, drift, mute, garbage, slow, flood; named:NAME)\n");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts: only sigwait sees them

  const std::string dir = argv[1];
  const auto ok = FakeAgent::exited(FakeAgent::sample_status().dump());
  const auto drifted = FakeAgent::exited(FakeAgent::sample_status(2).dump());
  std::vector<std::unique_ptr<FakeAgent>> agents;
  for (int i = 2; i < argc; ++i) {
    const std::string spec = argv[i];
    const auto colon = spec.find(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "fake-fleet: '%s' is not KIND:COUNT\n", spec.c_str());
      return 2;
    }
    const std::string kind = spec.substr(0, colon);
    if (kind == "named") {
      agents.push_back(std::make_unique<FakeAgent>(FakeAgent::normal(ok), dir + "/" + spec.substr(colon + 1) + ".sock"));
      continue;
    }
    const int count = std::stoi(spec.substr(colon + 1));
    for (int n = 0; n < count; ++n) {
      FakeAgent::Handler h;
      if (kind == "ok") h = FakeAgent::normal(ok);
      else if (kind == "drift") h = FakeAgent::normal(drifted);
      else if (kind == "mute") h = FakeAgent::mute();
      else if (kind == "garbage") h = FakeAgent::garbage();
      else if (kind == "slow") h = FakeAgent::slow(ok, 0.5);
      else if (kind == "flood") h = FakeAgent::flood();
      else {
        std::fprintf(stderr, "fake-fleet: unknown kind '%s'\n", kind.c_str());
        return 2;
      }
      char name[64];
      std::snprintf(name, sizeof name, "/%s-%03d.sock", kind.c_str(), n);
      agents.push_back(std::make_unique<FakeAgent>(h, dir + name));
    }
  }
  std::ofstream(dir + "/ready") << agents.size() << "\n";
  int sig = 0;
  sigwait(&set, &sig);
  return 0;
}
