// Test keys: turn one service's observations into its test_keys — OONI's raw
// sub-formats, the plan (x_endpoints, x_features, x_networks), the canary
// and control evidence, the verdict (computed by analysis/, never here) and
// the service's OONI-compatible keys. Keys that carry one feature's status
// (registration_server_status, wechat_web_failure, ...) are named by the
// catalog (a feature's `ooni_keys`) and written here; keys that need more
// (whatsapp_endpoints_blocked, signal_backend_status, facebook_*) come from
// one small file per service, registered in service_keys.cpp. Everything
// generic lives in testkeys.cpp. Never touches the network.
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

}  // namespace vantage::testkeys
