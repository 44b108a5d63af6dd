// The application protocol's rule. See rules.h.
//
// The exchange only follows a connect that worked, so the server's address
// and port were reachable from the probe in the same transaction: a reset,
// a close without a byte, or silence that comes only once the app's own
// opening bytes were sent is the app's protocol being recognised, not the
// address being blocked (that is tcp_ip) nor a TLS handshake (tls). The
// control (reports/control) measures the same address with a bare connect:
// it cannot send the app's bytes, so it can only say the server is gone.
// Inside TLS (a tls or https endpoint) the exchange follows a handshake that
// worked, with the same SNI: the name and the handshake were let through,
// and the cut came with the app's first request. The control runs the
// endpoint's own chain there (the handshake, an https endpoint's GET), never
// the exchange; a control that cannot connect or complete the handshake
// says the server is gone.
#include "analysis/verdict/rules/rules.h"

#include "reports/format/json_read.h"

namespace vantage::analysis::rules {

void judge_app_protocol(Judgement& j, const ChainOutcome& chain) {
  if (chain.failed_step != vocab::kStepAppExchange) return;
  const bool inside_tls = j.ep.chain == vocab::kChainTls || j.ep.chain == vocab::kChainHttps;
  std::string what = "connected to " + j.addr + (inside_tls ? ", completed the TLS handshake" : "") + ", then the " +
                     j.ep.exchange + " exchange";
  if (chain.exchange)
    what += " (" + std::to_string(format::read_optional_integer(*chain.exchange, "sent_bytes").value_or(0)) +
            " bytes sent" + (inside_tls ? " inside TLS" : "") + ")";
  what += " got " + chain.failure;
  if (j.control_tcp() == 0) return j.down(chain.failure, what + ", and the control cannot connect to the server at all");
  if (inside_tls && j.control_tls() == 0)
    return j.down(chain.failure, what + ", and the control cannot complete a TLS handshake with the server");
  std::string basis = inside_tls && j.control_tls() == 1
                          ? "; the control completes the handshake (it never sends the app's bytes)"
                      : j.control_tcp() == 1 ? "; the control connects (it cannot send the app's bytes)"
                                             : "; no control answer: the accepted connect and the canary decide";
  j.blame(vocab::kMethodAppProtocol, chain.failure, what + chain.retry_note() + basis);
}

}  // namespace vantage::analysis::rules
