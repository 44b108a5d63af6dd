// icmp_unreachable. See icmp_unreachable.h for the rule.
#include "probe/capture/detectors/icmp_unreachable.h"

namespace vantage::capture {

void IcmpUnreachable::finish_icmp(const FlowTracker& tracker, const IcmpEvent& e, AnomalySink& out) {
  out.emit(tracker.endpoints_for_address(e.destination), e.first_t,
           {{"protocol", e.protocol}, {"destination", e.destination.text()},
            {"icmp_type", e.type}, {"code", e.code}, {"admin_prohibited", e.admin_prohibited},
            {"port_unreachable", e.port_unreachable}, {"from", e.from},
            {"from_destination", e.from_destination}, {"ip_ttl", e.ttl}, {"count", e.count},
            {"last_t", tracker.rel(e.last_t)}});
}

}  // namespace vantage::capture
