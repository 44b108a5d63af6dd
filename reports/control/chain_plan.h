// What the control measures for one request: the probe names the chain of
// the endpoint it asks about ("x_chain"), and the helper measures that chain
// and no more, so a TCP-only endpoint (WhatsApp :5222) costs one connect,
// not an HTTP request waiting out its timeout.
//
//   x_chain   DNS lookup  TCP connects  TLS handshakes  HTTP request
//   dns       yes         -             -               -
//   tcp       -           yes           -               -
//   tls       -           yes           yes (URL host)  -
//   http      yes         yes           -               yes
//   https     yes         yes           yes             yes
//   (absent)  as OONI's helper: everything, TLS for https:// URLs
#pragma once

#include <string>

namespace vantage::control {

struct ChainPlan {
  std::string chain;  // "" when the request named none
  bool dns = true;
  bool connect = true;
  bool tls = false;
  bool http = true;
};

// The plan for a request's "x_chain" (`chain`; "" when absent or null: the
// full measurement for `scheme`). Returns "" and fills `plan`, or the error
// text for a value that is not one of the chains above.
std::string chain_plan(const std::string& chain, const std::string& scheme, ChainPlan& plan);

}  // namespace vantage::control
