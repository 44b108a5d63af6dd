// OONI archival JSON (df-002 dnst, df-005 tcpconnect, df-006 tlshandshake,
// df-001 httpt, df-008 netevents) for the observation records. The only place
// observations become JSON. Bytes that are not UTF-8 become
// {"format":"base64","data":...} as OONI does.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "reports/format/observations.h"

namespace vantage::format {

nlohmann::json to_json(const DnsObservation& o);
nlohmann::json to_json(const TcpConnectObservation& o);
nlohmann::json to_json(const TlsHandshakeObservation& o);
nlohmann::json to_json(const HttpObservation& o);
nlohmann::json to_json(const NetworkEvent& o);
// x_app_exchanges[] (Vantage's own, not an OONI sub-format): the first
// bytes received as lower-case hex ("received_hex").
nlohmann::json to_json(const AppExchangeObservation& o);
// Lower-case hex of `bytes`.
std::string hex_encode(const std::string& bytes);

std::string base64_encode(const std::string& bytes);
// Standard base64 (padding optional); false on any other character.
bool base64_decode(const std::string& text, std::string& bytes);
bool is_valid_utf8(const std::string& s);
// A string as OONI's "maybe binary" value: the string itself when UTF-8,
// {"format":"base64","data":...} otherwise.
nlohmann::json maybe_binary(const std::string& bytes);

}  // namespace vantage::format
