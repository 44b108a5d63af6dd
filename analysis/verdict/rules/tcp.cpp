// The TCP layer's rule. See rules.h.
#include "analysis/verdict/rules/rules.h"

namespace vantage::analysis::rules {

void judge_tcp(Judgement& j, const ChainOutcome& chain) {
  if (chain.failed_step != vocab::kChainTcp) return;
  if (j.control_tcp() == 0)
    return j.down(chain.failure, "TCP connect to " + j.addr + " failed (" + chain.failure + ") and from the control too");
  j.blame(vocab::kMethodTcpIp, chain.failure, "TCP connect to " + j.addr + " failed: " + chain.failure + chain.retry_note());
}

}  // namespace vantage::analysis::rules
