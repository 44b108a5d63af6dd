// sni.h — extracts the server_name (SNI) from a TLS ClientHello at the start
// of a TCP payload, as an on-path DPI box does with a single segment.
//
// Works on whatever bytes the segment holds: a ClientHello split over several
// segments is parsed as far as it goes (the SNI is usually in the first), and
// anything truncated or malformed yields a reason instead of a name. Never
// reads outside the given span, never reassembles streams.
#ifndef VANTAGE_CI_LAB_TOOLS_SNI_H_
#define VANTAGE_CI_LAB_TOOLS_SNI_H_

#include <cstdint>
#include <span>
#include <string>

namespace lab {

struct SniResult {
  enum class Kind {
    kFound,           // `name` holds the host_name
    kNotClientHello,  // not a TLS handshake record starting a ClientHello
    kNoSni,           // a complete extension list without server_name
    kTruncated,       // the segment ends before the SNI (fragmented hello)
    kMalformed,       // lengths that contradict each other
  };
  Kind kind = Kind::kNotClientHello;
  std::string name;
};

SniResult ParseClientHelloSni(std::span<const uint8_t> tcp_payload);
const char* SniKindName(SniResult::Kind kind);

}  // namespace lab

#endif  // VANTAGE_CI_LAB_TOOLS_SNI_H_
