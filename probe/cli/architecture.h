// The envelope's annotations.architecture: the machine the probe runs on, in
// the names OONI's probes write (Go's GOARCH: amd64, arm64, arm, 386, ...),
// read at run time (uname), so a build for one machine never claims another.
#pragma once

#include <string>
#include <string_view>

namespace vantage::cli {

// uname's machine ("x86_64", "aarch64", "armv7l", "i686", ...) in OONI's
// names; a machine with no OONI name is returned as uname gives it, and an
// empty one is "unknown".
std::string ooni_architecture(std::string_view machine);

// ooni_architecture() of this machine.
std::string host_architecture();

}  // namespace vantage::cli
