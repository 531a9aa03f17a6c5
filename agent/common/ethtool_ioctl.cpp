#include "ethtool_ioctl.h"

#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gn {

Result<int> ethtool_ioctl(const std::string& nic, void* data) {
  if (nic.empty() || nic.size() >= IFNAMSIZ) return make_error(nic, "not a valid interface name", {}, EINVAL);
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error(nic, std::string("socket for the ethtool ioctl: ") + std::strerror(errno), {}, errno);
  struct ifreq ifr {};
  std::memcpy(ifr.ifr_name, nic.c_str(), nic.size());
  ifr.ifr_data = static_cast<char*>(data);
  const int rc = ::ioctl(fd, SIOCETHTOOL, &ifr);
  const int err = errno;
  ::close(fd);
  return rc < 0 ? err : 0;
}

}  // namespace gn
