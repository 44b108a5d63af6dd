// modes.h — the three censor behaviours lab_nfq implements, each a loop over
// one NFQUEUE queue that runs until SIGTERM/SIGINT. Each returns the process
// exit status and logs one line per action to stderr; none parses arguments.
#ifndef VANTAGE_CI_LAB_TOOLS_MODES_H_
#define VANTAGE_CI_LAB_TOOLS_MODES_H_

#include <chrono>
#include <cstdint>

#include "name_list.h"
#include "packet.h"

namespace lab {

// On-path DNS injection racing the real answer (GFW style).
struct InjectDnsOptions {
  uint16_t queue = 0;
  NameList names;
  IpAddress forged_ip;             // IPv4 put in the forged A record
  uint8_t ip_ttl = 64;             // IP TTL of the forged packet
  std::chrono::milliseconds delay_real{100};  // hold of the real query
};
int RunInjectDns(const InjectDnsOptions& options);

// Drop a TLS flow once its ClientHello names a blocked server (Iran/Kazakhstan style).
struct DropSniOptions {
  uint16_t queue = 0;
  NameList names;
  std::chrono::seconds remember{120};  // how long a triggered 4-tuple stays dropped
};
int RunDropSni(const DropSniOptions& options);

// Fixed added latency: every packet held `delay`, order preserved.
struct DelayOptions {
  uint16_t queue = 0;
  std::chrono::milliseconds delay{0};
  uint32_t queue_max_length = 10000;  // beyond this many held packets, fail open
  bool log_each_packet = false;
};
int RunDelay(const DelayOptions& options);

}  // namespace lab

#endif  // VANTAGE_CI_LAB_TOOLS_MODES_H_
