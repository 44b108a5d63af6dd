// The control ("test helper") protocol's two messages, one type each, shared
// by the probe (which asks: probe/engine, probe/control) and the helper
// (which answers: reports/control), each with its one serializer. The wire
// format is OONI's web-connectivity helper protocol plus our x_ extensions
// (reports/control/README.md).
//
// Parsing never throws: a request's parse returns what was wrong (the
// helper sends it back as {"error"}), a response's parse keeps what it can
// read (an answer stored in a measurement is re-read by the verdict, and a
// malformed one must make endpoints inconclusive, not crash the tools).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace vantage::format {

struct ControlRequest {
  std::string http_request;  // the URL (its host is what the helper resolves)
  std::map<std::string, std::vector<std::string>> http_request_headers;
  std::vector<std::string> tcp_connect;  // "ip:port" / "[v6]:port"
  std::string http_method;               // x_http_method; "" = GET (not sent)
  std::string http_body;                 // x_http_body (POST only); "" = none
  std::string chain;                     // x_chain: what to measure; "" = everything
};

nlohmann::json to_json(const ControlRequest& r);
// The shape only (types, which keys): "" and `out` filled, or the error
// naming the key ("\"tcp_connect\"[2] must be a string"). Semantic checks
// (URL syntax, methods, limits, addresses) are the helper's.
std::string parse_control_request(const nlohmann::json& j, ControlRequest& out);

struct ControlDns {
  std::optional<std::string> failure;
  std::vector<std::string> addrs;
};
struct ControlConnect {
  bool status = false;
  std::optional<std::string> failure;
};
struct ControlHandshake {
  std::string server_name;
  bool status = false;
  std::optional<std::string> failure;
};
struct ControlHttp {
  int64_t status_code = -1;
  int64_t body_length = -1;
  std::string title;
  nlohmann::json headers = nlohmann::json::object();  // kept response headers, name -> value
  std::optional<std::string> failure;
};

// The helper's answer, or a question that got none: then only `failure` (and
// the control's `error` text, when it sent one) is set.
struct ControlResponse {
  std::optional<std::string> failure;  // no answer: "control_unreachable: ...", "interrupted", ...
  std::optional<std::string> error;    // the control's {"error"} text with a failure
  std::optional<ControlDns> dns;
  std::optional<std::map<std::string, ControlConnect>> tcp_connect;     // by "ip:port"
  std::optional<std::map<std::string, ControlHandshake>> tls_handshake;  // by "ip:port"
  std::optional<ControlHttp> http_request;
  std::optional<std::string> chain;  // x_chain: what was measured
  nlohmann::json ip_info;            // OONI's (always {} from ours); null = absent

  // Whether this is an answer (evidence), not a failed question.
  bool answered() const { return !failure.has_value(); }
};

nlohmann::json to_json(const ControlResponse& r);
// Keeps what has the right type, drops the rest; a non-object reads as a
// failed question ("json_parse_error" when it is not even an object).
ControlResponse control_response_from_json(const nlohmann::json& j);

}  // namespace vantage::format
