// The registration table: every capture detector, once. A new detector is a
// file pair in this directory, an AnomalyKind with its string (anomaly.cpp),
// a line here, and its meaning in probe/capture/README.md.
#include "probe/capture/detectors/client_hello_blackhole.h"
#include "probe/capture/detectors/dns_answer_from_silent_server.h"
#include "probe/capture/detectors/dns_multiple_answers.h"
#include "probe/capture/detectors/dns_ttl_mismatch.h"
#include "probe/capture/detectors/icmp_unreachable.h"
#include "probe/capture/detectors/injected_fast_response.h"
#include "probe/capture/detectors/syn_blackhole.h"
#include "probe/capture/detectors/tcp_data_after_rst.h"
#include "probe/capture/detectors/tcp_rst_injected.h"

namespace vantage::capture {

DetectorList default_detectors() {
  DetectorList list;
  list.push_back(std::make_unique<DnsMultipleAnswers>());
  list.push_back(std::make_unique<DnsTtlMismatch>());
  list.push_back(std::make_unique<DnsAnswerFromSilentServer>());
  list.push_back(std::make_unique<SynBlackhole>());
  list.push_back(std::make_unique<ClientHelloBlackhole>());
  list.push_back(std::make_unique<TcpRstInjected>());
  list.push_back(std::make_unique<TcpDataAfterRst>());
  list.push_back(std::make_unique<IcmpUnreachable>());
  list.push_back(std::make_unique<InjectedFastResponse>());
  return list;
}

}  // namespace vantage::capture
