// libFuzzer target: a sequence of raw IP packets → CaptureAnalyzer → anomalies
// JSON. Input format (what the seed corpus uses):
//   repeated { u16 length (big-endian), u16 time step in 100 µs units,
//              `length` bytes of one IPv4/IPv6 packet }
// The registry names 198.18.1.10:443 and 198.18.0.53:53 when the first
// byte is odd, else it is empty (every flow analysed), so both modes run.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "probe/capture/detectors.h"

using namespace vantage::capture;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  FlowRegistry registry;
  if (data[0] & 1) {
    registry.targets = {"198.18.1.10:443", "198.18.1.10:80"};
    registry.resolvers = {"198.18.0.53:53"};
    registry.qname_endpoints["example.com"] = {"fuzz:dns"};
    registry.address_endpoints["198.18.1.10:443"] = {"fuzz:a", "fuzz:b"};
  }
  DetectorOptions options;
  options.time_origin = 1000;
  CaptureAnalyzer tracker(registry, options);
  double t = 1000;
  size_t pos = 1;
  while (size - pos >= 4) {
    const size_t length = (static_cast<size_t>(data[pos]) << 8) | data[pos + 1];
    t += ((data[pos + 2] << 8) | data[pos + 3]) * 1e-4;
    pos += 4;
    const size_t take = std::min(length, size - pos);
    tracker.add_frame(link::kRaw, data + pos, take, t);
    pos += take;
  }
  const auto result = tracker.finish();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : result.anomalies) out.push_back(anomaly_to_json(a));
  out.push_back(result.flows);
  (void)out.dump();  // throws (→ crash) on invalid UTF-8
  return 0;
}
