// tcp_connect against real loopback listeners: success (IPv4, IPv6), refused,
// timeout, and bad input.
#include "probe/net/tcp_connect.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "probe/net/tests/loopback_servers.h"

namespace vantage::net {
namespace {

using namespace std::chrono_literals;
using testing::ClosedPort;
using testing::RawTcpServer;
using testing::SaturatedListener;

int local_peer_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -1;
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
}

TEST(TcpConnect, ConnectsToIpv4ListenerAndReturnsBlockingSocket) {
  RawTcpServer server(RawTcpServer::Behaviour::kHold);
  StepClock clock;
  auto result = tcp_connect("127.0.0.1", server.port(), 2000ms, {&clock, 7});
  EXPECT_FALSE(result.observation.failure.has_value()) << *result.observation.failure;
  ASSERT_TRUE(result.socket.valid());
  EXPECT_EQ(result.observation.ip, "127.0.0.1");
  EXPECT_EQ(result.observation.port, server.port());
  EXPECT_EQ(result.observation.transaction_id, 7);
  EXPECT_GE(result.observation.t0, 0.0);
  EXPECT_GE(result.observation.t, result.observation.t0);
  EXPECT_EQ(local_peer_port(result.socket.fd()), server.port());
  EXPECT_EQ(::fcntl(result.socket.fd(), F_GETFL, 0) & O_NONBLOCK, 0);
}

TEST(TcpConnect, ConnectsToIpv6Loopback) {
  RawTcpServer server(RawTcpServer::Behaviour::kHold, /*ipv6=*/true);
  StepClock clock;
  auto result = tcp_connect("::1", server.port(), 2000ms, {&clock, 1});
  EXPECT_FALSE(result.observation.failure.has_value()) << *result.observation.failure;
  ASSERT_TRUE(result.socket.valid());
  EXPECT_EQ(result.observation.ip, "::1");
  EXPECT_EQ(local_peer_port(result.socket.fd()), server.port());
}

TEST(TcpConnect, ClosedPortIsConnectionRefused) {
  ClosedPort closed;
  StepClock clock;
  auto result = tcp_connect("127.0.0.1", closed.port(), 2000ms, {&clock, 2});
  ASSERT_TRUE(result.observation.failure.has_value());
  EXPECT_EQ(*result.observation.failure, "connection_refused");
  EXPECT_FALSE(result.socket.valid());
  EXPECT_EQ(result.observation.port, closed.port());
}

TEST(TcpConnect, DroppedSynTimesOutWithinTheTimeout) {
  SaturatedListener listener;
  StepClock clock;
  auto start = std::chrono::steady_clock::now();
  auto result = tcp_connect("127.0.0.1", listener.port(), 300ms, {&clock, 3});
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(result.observation.failure.has_value());
  EXPECT_EQ(*result.observation.failure, "generic_timeout_error");
  EXPECT_FALSE(result.socket.valid());
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 1000ms);
  EXPECT_GE(result.observation.t - result.observation.t0, 0.29);
}

TEST(TcpConnect, RejectsNamesWithoutResolving) {
  StepClock clock;
  auto result = tcp_connect("good.test", 443, 300ms, {&clock, 4});
  ASSERT_TRUE(result.observation.failure.has_value());
  EXPECT_TRUE(result.observation.failure->starts_with("unknown_failure: "));
  EXPECT_FALSE(result.socket.valid());
}

}  // namespace
}  // namespace vantage::net
