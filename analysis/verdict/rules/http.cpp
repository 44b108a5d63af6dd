// The HTTP layer's rules. See rules.h.
#include "analysis/verdict/rules/rules.h"

namespace vantage::analysis::rules {

void judge_http_failure_down(Judgement& j, const ChainOutcome& chain) {
  if (chain.failed_step != vocab::kChainHttp) return;
  if (j.control_http_failed() || j.control_tcp() == 0)
    j.down(chain.failure, "HTTP request failed (" + chain.failure + ") and from the control too");
}

void judge_http_failure(Judgement& j, const ChainOutcome& chain) {
  if (chain.failed_step != vocab::kChainHttp) return;
  j.blame(vocab::kMethodHttp, chain.failure, "HTTP request to " + j.addr + " failed: " + chain.failure + chain.retry_note());
}

void judge_http_status(Judgement& j, const ChainOutcome& chain) {
  if (!chain.failed_step.empty() || !chain.request) return;
  const nlohmann::json& request = *chain.request;
  int64_t code = 0;
  if (auto r = request.find("response"); r != request.end() && r->is_object())
    if (auto c = r->find("code"); c != r->end() && c->is_number_integer()) code = c->get<int64_t>();
  const int64_t control_code = j.control_http_status();
  if (control_code > 0 && code > 0 && code != control_code)
    j.blame(vocab::kMethodHttp, vocab::kUnexpectedStatus,
            "HTTP status " + std::to_string(code) + " while the control got " + std::to_string(control_code));
}

}  // namespace vantage::analysis::rules
