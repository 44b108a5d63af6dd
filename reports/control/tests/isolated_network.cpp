// See isolated_network.h.
#include "reports/control/tests/isolated_network.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace vantage::control::testing {

namespace {

bool isolated = false;

// A new namespace's loopback is down; bring it up so loopback servers work.
bool bring_loopback_up() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &request) == 0;
  if (ok) {
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
    ok = ::ioctl(fd, SIOCSIFFLAGS, &request) == 0;
  }
  ::close(fd);
  return ok;
}

// Runs in the main thread before any test (and before any thread exists),
// so every thread and child started later is inside the namespace.
class IsolatedNetwork : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::unshare(CLONE_NEWNET) != 0) return;
    if (!bring_loopback_up()) {
      // A namespace without loopback is useless for these tests, but it is
      // still isolated: tests that need a server will fail loudly.
      ADD_FAILURE() << "created a network namespace but could not bring lo up";
    }
    isolated = true;
  }
};

[[maybe_unused]] ::testing::Environment* const environment =
    ::testing::AddGlobalTestEnvironment(new IsolatedNetwork);

}  // namespace

bool network_isolated() { return isolated; }

}  // namespace vantage::control::testing
