// The probe's architecture name. See architecture.h.
#include "probe/cli/architecture.h"

#include <sys/utsname.h>

namespace vantage::cli {

std::string ooni_architecture(std::string_view machine) {
  struct Name {
    std::string_view machine, ooni;
  };
  static constexpr Name kNames[] = {
      {"x86_64", "amd64"},    {"amd64", "amd64"},   {"aarch64", "arm64"}, {"arm64", "arm64"},
      {"i386", "386"},        {"i486", "386"},      {"i586", "386"},      {"i686", "386"},
      {"ppc64le", "ppc64le"}, {"s390x", "s390x"},   {"riscv64", "riscv64"}, {"mips64", "mips64"},
      {"mips", "mips"},
  };
  for (const Name& n : kNames)
    if (machine == n.machine) return std::string(n.ooni);
  if (machine.substr(0, 3) == "arm") return "arm";  // armv6l, armv7l, armv8l (32-bit)
  if (machine.empty()) return "unknown";
  return std::string(machine);
}

std::string host_architecture() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return ooni_architecture(u.machine);
}

}  // namespace vantage::cli
