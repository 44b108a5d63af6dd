// Capture analysis: decoded packets of the probe's own flows, in time order →
// anomalies with the evidence that triggered them, plus per-flow figures.
//
// Zeek-style split: packet_decoder.h says what a packet is, flow_tracker.h
// keeps the state of each flow, DNS exchange and ICMP error, and each detector
// in detectors/ (one rule, one file, one AnomalyKind; the table is
// detectors/registry.cpp) decides what is notable. probe/capture/README.md
// lists the detectors and what each anomaly means; DetectorOptions holds
// their thresholds. Every anomaly names the endpoint it concerns (via the
// registry the engine fills) and carries the fields that triggered it. An
// anomaly is evidence, not a verdict: analysis/ decides what it means.
//
// Contract: never throws on any packet sequence; robust to reordering,
// duplicates and missing packets; never reports an anomaly on a clean flow
// that lost packets at random (a SYN retransmitted once and then answered, a
// reordered segment, the server's own RST). Output contains no MAC address
// and no address other than those of the registered flows (and the probe's
// own, which the caller scrubs), except the sender of an ICMP error, which is
// masked when it is a private address.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "probe/capture/anomaly.h"
#include "probe/capture/detectors/detector.h"
#include "probe/capture/flow_tracker.h"
#include "probe/capture/packet_decoder.h"

namespace vantage::capture {

struct DetectorResult {
  std::vector<Anomaly> anomalies;  // ordered by t
  nlohmann::json flows = nlohmann::json::array();
  DetectorStats stats;
};

class CaptureAnalyzer {
 public:
  // Runs every detector of the table (default_detectors()).
  CaptureAnalyzer(FlowRegistry registry, DetectorOptions options);
  // Runs only `detectors` (a test of one detector).
  CaptureAnalyzer(FlowRegistry registry, DetectorOptions options, DetectorList detectors);
  CaptureAnalyzer(const CaptureAnalyzer&) = delete;
  CaptureAnalyzer& operator=(const CaptureAnalyzer&) = delete;

  // `ts`: the packet's absolute capture time in seconds. Packets should come
  // in time order; small inversions are tolerated.
  void add(const DecodedPacket& packet, double ts);
  void add_frame(int link_type, const uint8_t* data, std::size_t caplen, double ts);

  // Runs the end-of-capture rules. `end_ts` (absolute) is when capture
  // stopped; <= 0 means the last packet's time. May be called again after
  // more packets.
  DetectorResult finish(double end_ts = 0);

 private:
  FlowTracker tracker_;
  DetectorList detectors_;
  std::vector<Anomaly> streamed_;  // emitted while packets streamed in, kept across finish() calls
};

}  // namespace vantage::capture
