// Tests for the envelope's architecture name: uname's machines in OONI's
// names, and this machine's name is never a made-up constant.
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include "probe/cli/architecture.h"

namespace vantage::cli {
namespace {

TEST(Architecture, UnameMachinesInOoniNames) {
  EXPECT_EQ(ooni_architecture("x86_64"), "amd64");
  EXPECT_EQ(ooni_architecture("aarch64"), "arm64");
  EXPECT_EQ(ooni_architecture("armv7l"), "arm");
  EXPECT_EQ(ooni_architecture("armv6l"), "arm");
  EXPECT_EQ(ooni_architecture("i686"), "386");
  EXPECT_EQ(ooni_architecture("riscv64"), "riscv64");
  EXPECT_EQ(ooni_architecture("loongarch64"), "loongarch64");  // no OONI name: as uname says
  EXPECT_EQ(ooni_architecture(""), "unknown");
}

TEST(Architecture, HostIsThisMachine) {
  utsname u{};
  ASSERT_EQ(uname(&u), 0);
  EXPECT_EQ(host_architecture(), ooni_architecture(u.machine));
  EXPECT_FALSE(host_architecture().empty());
}

}  // namespace
}  // namespace vantage::cli
