// Test keys: turn one service's observations into its test_keys — OONI's raw
// sub-formats, the plan (x_endpoints, x_features, x_networks), the canary
// and control evidence, the verdict (computed by analysis/, never here) and
// the service's own OONI-compatible keys (whatsapp_endpoints_status,
// signal_backend_status, wechat_*, facebook_*). One small file per service adds those
// keys; everything generic lives in testkeys.cpp. Never touches the network.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "probe/catalog/catalog.h"
#include "probe/engine/engine.h"

namespace vantage::testkeys {

// {"status": "ok"|"failed"|"absent", "throughput_kbps": n|null, "endpoints": [...]}
nlohmann::json canary_summary(const engine::ServiceObservations& canary);

// The complete test_keys for one service, x_verdict included.
// `capture` is this service's part of x_capture (null when not captured).
nlohmann::json build_test_keys(const catalog::Service& service, const engine::ServiceObservations& obs,
                               const nlohmann::json& canary, const nlohmann::json& capture = nullptr);

// Service-specific keys, derived from the generic test_keys (with x_verdict).
void add_whatsapp_keys(nlohmann::json& test_keys);
void add_signal_keys(nlohmann::json& test_keys);
void add_wechat_keys(nlohmann::json& test_keys);
void add_facebook_messenger_keys(nlohmann::json& test_keys);

}  // namespace vantage::testkeys
