// syn_blackhole. See syn_blackhole.h for the rule.
#include "probe/capture/detectors/syn_blackhole.h"

namespace vantage::capture {

void SynBlackhole::finish_flow(const FlowTracker& tracker, const TcpFlow& f, double end_ts, AnomalySink& out) {
  if (f.syn_count < tracker.options().syn_blackhole_min_syns || f.inbound_any || f.icmp_errors != 0) return;
  out.emit(tracker.endpoints_for_address(f.server), f.first_syn_t,
           {{"server", f.server.text()}, {"syn_count", f.syn_count}, {"first_syn_t", tracker.rel(f.first_syn_t)},
            {"last_syn_t", tracker.rel(f.last_syn_t)}, {"waited_s", round_us(end_ts - f.first_syn_t)}});
}

}  // namespace vantage::capture
