// The control protocol's messages. See control_protocol.h for the contract.
#include "reports/format/control_protocol.h"

#include "reports/format/json_read.h"

namespace vantage::format {
namespace {

using nlohmann::json;


// A client-chosen name, printable in an error message (bytes that are not
// UTF-8 replaced, quotes and controls escaped).
std::string printable(const std::string& name) {
  std::string quoted = json(name).dump(-1, ' ', false, json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

// Where a string field may be absent or null; false when it has another type.
bool optional_string(const json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

template <typename Entry, typename Read>
std::optional<std::map<std::string, Entry>> entries(const json& j, const char* key, Read read) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) return std::nullopt;
  std::map<std::string, Entry> out;
  for (auto e = it->begin(); e != it->end(); ++e) out[e.key()] = read(e.value());
  return out;
}

}  // namespace

json to_json(const ControlRequest& r) {
  json request = {{"http_request", r.http_request}, {"http_request_headers", json::object()}, {"tcp_connect", r.tcp_connect}};
  for (const auto& [name, values] : r.http_request_headers) request["http_request_headers"][name] = values;
  if (!r.http_method.empty()) request["x_http_method"] = r.http_method;
  if (!r.http_body.empty()) request["x_http_body"] = r.http_body;
  if (!r.chain.empty()) request["x_chain"] = r.chain;
  return request;
}

std::string parse_control_request(const json& j, ControlRequest& out) {
  out = {};
  if (!j.is_object()) return "request is not a JSON object";
  const auto url = j.find("http_request");
  if (url == j.end() || !url->is_string()) return "\"http_request\" must be a URL string";
  out.http_request = url->get<std::string>();

  const auto headers = j.find("http_request_headers");
  if (headers != j.end() && !headers->is_null()) {
    if (!headers->is_object()) return "\"http_request_headers\" must be an object of string arrays";
    for (const auto& [name, values] : headers->items()) {
      auto& list = out.http_request_headers[name];
      if (values.is_string()) {
        list.push_back(values.get<std::string>());
      } else if (values.is_array()) {
        for (const auto& v : values) {
          if (!v.is_string()) return "\"http_request_headers\"[\"" + printable(name) + "\"] must hold strings";
          list.push_back(v.get<std::string>());
        }
      } else {
        return "\"http_request_headers\"[\"" + printable(name) + "\"] must be an array of strings";
      }
    }
  }
  if (!optional_string(j, "x_http_method", out.http_method)) return "\"x_http_method\" must be a string";
  if (!optional_string(j, "x_http_body", out.http_body)) return "\"x_http_body\" must be a string";
  if (!optional_string(j, "x_chain", out.chain)) return "\"x_chain\" must be a string";

  const auto connects = j.find("tcp_connect");
  if (connects != j.end() && !connects->is_null()) {
    if (!connects->is_array()) return "\"tcp_connect\" must be an array of \"ip:port\" strings";
    for (std::size_t i = 0; i < connects->size(); ++i) {
      if (!(*connects)[i].is_string()) return "\"tcp_connect\"[" + std::to_string(i) + "] must be a string";
      out.tcp_connect.push_back((*connects)[i].get<std::string>());
    }
  }
  return "";
}

json to_json(const ControlResponse& r) {
  json j = json::object();
  if (r.failure) j["failure"] = *r.failure;
  if (r.error) j["error"] = *r.error;
  if (r.dns) j["dns"] = {{"failure", or_null(r.dns->failure)}, {"addrs", r.dns->addrs}};
  if (r.tcp_connect) {
    json t = json::object();
    for (const auto& [addr, c] : *r.tcp_connect) t[addr] = {{"status", c.status}, {"failure", or_null(c.failure)}};
    j["tcp_connect"] = t;
  }
  if (r.tls_handshake) {
    json t = json::object();
    for (const auto& [addr, h] : *r.tls_handshake)
      t[addr] = {{"server_name", h.server_name}, {"status", h.status}, {"failure", or_null(h.failure)}};
    j["tls_handshake"] = t;
  }
  if (r.http_request)
    j["http_request"] = {{"status_code", r.http_request->status_code},
                         {"body_length", r.http_request->body_length},
                         {"title", r.http_request->title},
                         {"headers", r.http_request->headers},
                         {"failure", or_null(r.http_request->failure)}};
  if (r.chain) j["x_chain"] = *r.chain;
  if (!r.ip_info.is_null()) j["ip_info"] = r.ip_info;
  return j;
}

ControlResponse control_response_from_json(const json& j) {
  ControlResponse r;
  if (!j.is_object()) {
    r.failure = "json_parse_error";
    return r;
  }
  r.failure = read_optional_string(j, "failure");
  r.error = read_optional_string(j, "error");
  if (auto it = j.find("dns"); it != j.end() && it->is_object()) {
    ControlDns d;
    d.failure = read_optional_string(*it, "failure");
    if (auto a = it->find("addrs"); a != it->end() && a->is_array())
      for (const auto& s : *a)
        if (s.is_string()) d.addrs.push_back(s.get<std::string>());
    r.dns = std::move(d);
  }
  auto status = [](const json& e) { return read_bool(e, "status", false); };
  r.tcp_connect = entries<ControlConnect>(j, "tcp_connect", [&](const json& e) {
    return e.is_object() ? ControlConnect{status(e), read_optional_string(e, "failure")} : ControlConnect{};
  });
  r.tls_handshake = entries<ControlHandshake>(j, "tls_handshake", [&](const json& e) {
    if (!e.is_object()) return ControlHandshake{};
    return ControlHandshake{read_optional_string(e, "server_name").value_or(""), status(e), read_optional_string(e, "failure")};
  });
  if (auto it = j.find("http_request"); it != j.end() && it->is_object()) {
    ControlHttp h;
    h.status_code = read_optional_integer(*it, "status_code").value_or(-1);
    h.body_length = read_optional_integer(*it, "body_length").value_or(-1);
    h.title = read_optional_string(*it, "title").value_or("");
    if (auto hd = it->find("headers"); hd != it->end() && hd->is_object()) h.headers = *hd;
    h.failure = read_optional_string(*it, "failure");
    r.http_request = std::move(h);
  }
  r.chain = read_optional_string(j, "x_chain");
  if (auto it = j.find("ip_info"); it != j.end()) r.ip_info = *it;
  return r;
}

}  // namespace vantage::format
