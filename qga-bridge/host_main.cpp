// guest-nettune-host: parse, connect, run, exit with a code that says what failed.
#include <iostream>

#include "host_cli.h"
#include "socket_channel.h"

int main(int argc, char** argv) {
  using namespace gn::qga;
  auto opts = parse_host_args(std::vector<std::string>(argv + 1, argv + argc));
  if (!opts) {
    std::cerr << "guest-nettune-host: " << opts.error().text() << "\n";
    return host_exit::kUsage;
  }
  if (opts->help) {
    std::cout << host_help();
    return host_exit::kOk;
  }
  SocketChannel channel(opts->socket);
  return run_host_command(*opts, channel, std::cout, std::cerr);
}
