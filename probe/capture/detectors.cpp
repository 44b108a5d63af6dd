// Capture analysis: the tracker's state through the detector table. See detectors.h.
#include "probe/capture/detectors.h"

#include <algorithm>

namespace vantage::capture {

CaptureAnalyzer::CaptureAnalyzer(FlowRegistry registry, DetectorOptions options)
    : CaptureAnalyzer(std::move(registry), options, default_detectors()) {}

CaptureAnalyzer::CaptureAnalyzer(FlowRegistry registry, DetectorOptions options, DetectorList detectors)
    : tracker_(std::move(registry), options), detectors_(std::move(detectors)) {}

void CaptureAnalyzer::add(const DecodedPacket& packet, double ts) {
  const PacketEvent event = tracker_.add(packet, ts);
  if (event.inbound_payload == nullptr) return;
  for (auto& d : detectors_) {
    AnomalySink sink(d->kind(), tracker_, streamed_);
    d->on_inbound_payload(tracker_, *event.inbound_payload, packet, ts, sink);
  }
}

void CaptureAnalyzer::add_frame(int link_type, const uint8_t* data, std::size_t caplen, double ts) {
  add(decode_packet(link_type, data, caplen), ts);
}

DetectorResult CaptureAnalyzer::finish(double end_ts) {
  if (end_ts <= 0) end_ts = tracker_.max_ts();
  DetectorResult result;
  result.anomalies = streamed_;
  // Subject by subject (DNS exchanges, then TCP flows, then ICMP errors), each
  // through the table in order: anomalies that share a time keep that order.
  for (auto& d : detectors_) d->begin_finish(tracker_);
  for (const auto& e : tracker_.exchanges())
    for (auto& d : detectors_) {
      AnomalySink sink(d->kind(), tracker_, result.anomalies);
      d->finish_exchange(tracker_, e, sink);
    }
  for (const auto& f : tracker_.flows())
    for (auto& d : detectors_) {
      AnomalySink sink(d->kind(), tracker_, result.anomalies);
      d->finish_flow(tracker_, f, end_ts, sink);
    }
  for (const auto& [key, e] : tracker_.icmp_events())
    for (auto& d : detectors_) {
      AnomalySink sink(d->kind(), tracker_, result.anomalies);
      d->finish_icmp(tracker_, e, sink);
    }
  std::stable_sort(result.anomalies.begin(), result.anomalies.end(),
                   [](const Anomaly& a, const Anomaly& b) { return a.t < b.t; });
  result.flows = tracker_.flow_figures();
  result.stats = tracker_.stats();
  return result;
}

}  // namespace vantage::capture
