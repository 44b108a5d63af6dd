// The control helper's endpoint. See control_http.h.
#include "reports/control/control_http.h"

namespace vantage::control {

server::Response http_control(const server::Request& req, const ControlOptions& options) {
  const ControlReply reply = handle_control_body(req.body, options);
  return server::json_response(reply.http_status,
                               reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace vantage::control
