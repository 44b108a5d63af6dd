// The TLS layer's rule. See rules.h.
#include "analysis/verdict/rules/rules.h"

namespace vantage::analysis::rules {

void judge_tls(Judgement& j, const ChainOutcome& chain) {
  if (chain.failed_step != vocab::kChainTls) return;
  // The control could not even connect: the handshake never had a chance there either.
  if (j.control_tls() == 0 || j.control_tcp() == 0)
    return j.down(chain.failure,
                  "TLS handshake with " + j.addr + " failed (" + chain.failure + ") and from the control too");
  j.blame(vocab::kMethodTls, chain.failure,
          "TLS handshake with " + j.addr + " (SNI " + j.ep.host + ") failed: " + chain.failure + chain.retry_note());
}

}  // namespace vantage::analysis::rules
