// Detector: one rule that reads the flow tracker's state and says what is
// notable, as anomalies of the one kind it declares. An anomaly is evidence,
// not a verdict: analysis/ decides what it means.
//
// Hooks, all optional (the analyzer in detectors.h calls them):
//  on_inbound_payload  as packets stream in: an inbound TCP segment with
//                      payload (not a SYN-ACK, not a RST), after the tracker
//                      has updated its flow. For rules that must see the
//                      packet itself, or the flow as it was at that moment.
//  begin_finish        at the end of the capture, before the finish_* hooks:
//                      figures over all flows or exchanges (a server's usual TTL).
//  finish_exchange / finish_flow / finish_icmp
//                      once per DNS exchange, TCP flow, ICMP event, in the
//                      tracker's order.
// finish (begin_finish and the finish_* hooks) may run more than once on the
// same capture and must give the same anomalies each time: keep state from
// on_inbound_payload, recompute everything else.
//
// Contract: never throws; every number read from the state is bounded by the
// tracker; evidence holds only the addresses of the flows (and an ICMP
// sender as icmp_sender_text() gives it).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "probe/capture/anomaly.h"
#include "probe/capture/flow_tracker.h"

namespace vantage::capture {

// Where a detector puts what it finds: anomalies of its own kind, named after
// the first endpoint, with the others in evidence.also_endpoints.
class AnomalySink {
 public:
  AnomalySink(AnomalyKind kind, const FlowTracker& tracker, std::vector<Anomaly>& into)
      : kind_(kind), tracker_(tracker), into_(into) {}
  // `ts`: absolute packet time of what triggered it.
  void emit(const std::vector<std::string>& endpoints, double ts, nlohmann::json evidence);

 private:
  AnomalyKind kind_;
  const FlowTracker& tracker_;
  std::vector<Anomaly>& into_;
};

class Detector {
 public:
  virtual ~Detector() = default;
  virtual AnomalyKind kind() const = 0;

  virtual void on_inbound_payload(const FlowTracker&, const TcpFlow&, const DecodedPacket&, double /*ts*/,
                                  AnomalySink&) {}
  virtual void begin_finish(const FlowTracker&) {}
  virtual void finish_exchange(const FlowTracker&, const DnsExchange&, AnomalySink&) {}
  // `end_ts`: absolute time capture stopped.
  virtual void finish_flow(const FlowTracker&, const TcpFlow&, double /*end_ts*/, AnomalySink&) {}
  virtual void finish_icmp(const FlowTracker&, const IcmpEvent&, AnomalySink&) {}
};

using DetectorList = std::vector<std::unique_ptr<Detector>>;

// The registration table (detectors/registry.cpp): one of each detector, in
// the order their anomalies are listed when several share a time.
DetectorList default_detectors();

}  // namespace vantage::capture
