// client_hello_blackhole. See client_hello_blackhole.h for the rule.
#include "probe/capture/detectors/client_hello_blackhole.h"

#include "probe/capture/detectors/evidence.h"

namespace vantage::capture {

void ClientHelloBlackhole::finish_flow(const FlowTracker& tracker, const TcpFlow& f, double end_ts,
                                       AnomalySink& out) {
  if (!f.ch_seen || f.ch_sends < tracker.options().client_hello_blackhole_min_sends || f.inbound_after_ch ||
      f.icmp_errors != 0)
    return;
  nlohmann::json ev = {{"server", f.server.text()}, {"sends", f.ch_sends}, {"first_t", tracker.rel(f.ch_t)},
                       {"waited_s", round_us(end_ts - f.ch_t)}, {"synack_ttl", f.synack_ttl},
                       {"rtt_ms", evidence::ms_or_null(f.rtt)}};
  if (!f.sni.empty()) ev["sni"] = f.sni;
  out.emit(tracker.endpoints_for_address(f.server), f.ch_t, std::move(ev));
}

}  // namespace vantage::capture
