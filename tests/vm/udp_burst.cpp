// udp-burst CPU COUNT [ADDR]: pins itself to CPU and sends COUNT small UDP datagrams to ADDR
// (default 192.0.2.1, a documentation address the test's own host side owns) port 9.
// Built static for the test guest's initramfs.
#include <arpa/inet.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: udp-burst CPU COUNT [ADDR]\n");
    return 2;
  }
  const int cpu = std::atoi(argv[1]);
  const long count = std::atol(argv[2]);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    std::perror("sched_setaffinity");
    return 1;
  }
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  if (inet_pton(AF_INET, argc > 3 ? argv[3] : "192.0.2.1", &to.sin_addr) != 1) return 2;
  // Unconnected: an ICMP port-unreachable from the far side must not fail the next send.
  char payload[64];
  std::memset(payload, 'g', sizeof payload);
  long sent = 0;
  for (long i = 0; i < count; ++i)
    if (sendto(fd, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
        static_cast<ssize_t>(sizeof payload))
      ++sent;
  std::printf("%ld\n", sent);
  return sent == count ? 0 : 1;
}
