// tcp_data_after_rst. See tcp_data_after_rst.h for the rule.
#include "probe/capture/detectors/tcp_data_after_rst.h"

namespace vantage::capture {

void TcpDataAfterRst::on_inbound_payload(const FlowTracker& tracker, const TcpFlow& f, const DecodedPacket& p,
                                         double ts, AnomalySink&) {
  if (f.resets.empty() || found_.count(f.order)) return;
  for (const auto& r : f.resets) {
    if ((r.flags & tcpflag::kRst) && ts > r.t && seq_le(r.seq, p.seq)) {
      found_[f.order] = {ts,
                         {{"rst_t", tracker.rel(r.t)}, {"data_t", tracker.rel(ts)},
                          {"rst_ttl", r.ttl}, {"data_ttl", p.ttl},
                          {"rst_ip_id", r.ip_id}, {"data_ip_id", p.ip_id},
                          {"rst_seq", r.seq}, {"data_seq", p.seq},
                          {"data_bytes", p.payload_length},
                          {"server", f.server.text()}}};
      return;
    }
  }
}

void TcpDataAfterRst::finish_flow(const FlowTracker& tracker, const TcpFlow& f, double, AnomalySink& out) {
  if (auto it = found_.find(f.order); it != found_.end())
    out.emit(tracker.endpoints_for_address(f.server), it->second.t, it->second.evidence);
}

}  // namespace vantage::capture
