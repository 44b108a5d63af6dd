// Test support: runs the whole test program in its own network namespace
// with only a loopback interface, so that nothing the helper does (above all
// getaddrinfo on a non-literal name, which asks the system's resolver) can
// send a packet off this machine. Servers, the helper's worker threads and
// the vantage-testhelper child process all inherit the namespace.
//
// Without the privilege to create one, tests that resolve names skip; tests
// that use only IP literals run on the machine's own loopback.
#pragma once

namespace vantage::control::testing {

// True when the program runs in a private namespace (set up before any test).
bool network_isolated();

}  // namespace vantage::control::testing
