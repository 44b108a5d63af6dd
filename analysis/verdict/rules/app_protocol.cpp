// The application protocol's rule. See rules.h.
//
// The exchange only follows a connect that worked, so the server's address
// and port were reachable from the probe in the same transaction: a reset,
// a close without a byte, or silence that comes only once the app's own
// opening bytes were sent is the app's protocol being recognised, not the
// address being blocked (that is tcp_ip) nor a TLS handshake (tls). The
// control (reports/control) measures the same address with a bare connect:
// it cannot send the app's bytes, so it can only say the server is gone.
#include "analysis/verdict/rules/rules.h"

#include "reports/format/json_read.h"

namespace vantage::analysis::rules {

void judge_app_protocol(Judgement& j, const ChainOutcome& chain) {
  if (chain.failed_step != vocab::kStepAppExchange) return;
  std::string what = "connected to " + j.addr + ", then the " + j.ep.exchange + " exchange";
  if (chain.exchange)
    what += " (" + std::to_string(format::read_optional_integer(*chain.exchange, "sent_bytes").value_or(0)) +
            " bytes sent)";
  what += " got " + chain.failure;
  if (j.control_tcp() == 0) return j.down(chain.failure, what + ", and the control cannot connect to the server at all");
  std::string basis = j.control_tcp() == 1 ? "; the control connects (it cannot send the app's bytes)"
                                           : "; no control answer: the accepted connect and the canary decide";
  j.blame(vocab::kMethodAppProtocol, chain.failure, what + chain.retry_note() + basis);
}

}  // namespace vantage::analysis::rules
