// Anomaly: what a capture detector found, with the evidence that triggered it.
//
// Each detector declares the one kind it emits as an AnomalyKind; to_string()
// is the only place a kind becomes the JSON "type" string. Those strings are
// read by stored measurements, the verdict's evidence and ci/lab/pcap_check.py:
// they never change once shipped (probe/capture/README.md lists their meaning).
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace vantage::capture {

enum class AnomalyKind {
  dns_multiple_answers,
  dns_ttl_mismatch,
  dns_answer_from_silent_server,
  syn_blackhole,
  client_hello_blackhole,
  tcp_rst_injected,
  tcp_data_after_rst,
  icmp_unreachable,
  injected_fast_response,
};

inline constexpr std::array kAllAnomalyKinds = {
    AnomalyKind::dns_multiple_answers, AnomalyKind::dns_ttl_mismatch,
    AnomalyKind::dns_answer_from_silent_server, AnomalyKind::syn_blackhole,
    AnomalyKind::client_hello_blackhole, AnomalyKind::tcp_rst_injected,
    AnomalyKind::tcp_data_after_rst, AnomalyKind::icmp_unreachable,
    AnomalyKind::injected_fast_response,
};

// The JSON "type" of an anomaly of this kind.
std::string_view to_string(AnomalyKind kind);
// The kind whose to_string() is `type`; nullopt for any other string.
std::optional<AnomalyKind> anomaly_kind_from_string(std::string_view type);

struct Anomaly {
  AnomalyKind kind{};
  std::string endpoint;
  double t = 0;  // seconds since the run's start
  nlohmann::json evidence = nlohmann::json::object();
};

// {"type", "endpoint", "t", "evidence"}: the form in test_keys.x_capture.anomalies.
nlohmann::json anomaly_to_json(const Anomaly& anomaly);

}  // namespace vantage::capture
