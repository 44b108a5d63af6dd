// x_chain → the steps the helper runs. See chain_plan.h.
#include "reports/control/chain_plan.h"

namespace vantage::control {

std::string chain_plan(const std::string& chain, const std::string& scheme, ChainPlan& plan) {
  plan = ChainPlan{};
  plan.tls = scheme == "https";
  if (chain.empty()) return "";
  if (chain == "dns") {
    plan = {chain, true, false, false, false};
  } else if (chain == "tcp") {
    plan = {chain, false, true, false, false};
  } else if (chain == "tls") {
    plan = {chain, false, true, true, false};
  } else if (chain == "http" || chain == "https") {
    if (chain != scheme) return "\"x_chain\": \"" + chain + "\" needs an " + chain + ":// URL";
    plan = {chain, true, true, chain == "https", true};
  } else {
    return "\"x_chain\" must be dns, tcp, tls, http or https";
  }
  return "";
}

}  // namespace vantage::control
