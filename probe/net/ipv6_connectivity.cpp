// IPv6 connectivity without a packet. See ipv6_connectivity.h.
#include "probe/net/ipv6_connectivity.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "reports/format/ip_address.h"

namespace vantage::net {

bool is_global_ipv6(const std::string& address) {
  const auto a = ip::parse_address(address, ip::Spelling::literal);
  if (!a || a->family != 6) return false;
  if ((a->bytes[0] & 0xe0) != 0x20) return false;  // 2000::/3
  if (ip::in_special_range(*a, ip::kNotGlobal)) return false;
  return !ip::in_prefix(address, "2001:db8::/32");
}

Ipv6Connectivity classify_ipv6_route(int connect_errno, const std::string& source) {
  if (connect_errno == EAFNOSUPPORT) return {false, kIpv6Unsupported};
  if (connect_errno != 0) return {false, kIpv6NoRoute};
  if (!is_global_ipv6(source)) return {false, kIpv6NoGlobalAddress};
  return {true, ""};
}

Ipv6Connectivity ipv6_connectivity(const std::string& destination) {
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_port = htons(443);
  if (inet_pton(AF_INET6, destination.c_str(), &to.sin6_addr) != 1) return {false, kIpv6NoRoute};
  const int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return classify_ipv6_route(errno, "");  // EAFNOSUPPORT: a kernel without IPv6
  // connect() on a UDP socket only picks the route and the source address.
  int err = 0;
  std::string source;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    err = errno;
  } else {
    sockaddr_in6 local{};
    socklen_t len = sizeof local;
    char text[INET6_ADDRSTRLEN] = {};
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
        inet_ntop(AF_INET6, &local.sin6_addr, text, sizeof text))
      source = text;
  }
  ::close(fd);
  return classify_ipv6_route(err, source);
}

}  // namespace vantage::net
