// The services whose OONI test_keys need code: one builder per OONI test
// name, registered in the one table in service_keys.cpp. A service not in
// the table gets the generic keys only (testkeys.cpp: the observations, the
// plan, the verdict and each feature's catalog `ooni_keys`), so adding such
// a service takes one catalog file and no code.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "probe/catalog/catalog.h"

namespace vantage::testkeys {

// Adds the service's own keys to its generic test_keys (x_verdict included).
using ServiceKeysBuilder = void (*)(const catalog::Service& service, nlohmann::json& test_keys);

// The builder registered for `test_name`, or nullptr.
ServiceKeysBuilder service_keys_builder(const std::string& test_name);

// Each in its own file (<test_name>.cpp).
void add_whatsapp_keys(const catalog::Service& service, nlohmann::json& test_keys);
void add_signal_keys(const catalog::Service& service, nlohmann::json& test_keys);
void add_wechat_keys(const catalog::Service& service, nlohmann::json& test_keys);
void add_facebook_messenger_keys(const catalog::Service& service, nlohmann::json& test_keys);
void add_telegram_keys(const catalog::Service& service, nlohmann::json& test_keys);

}  // namespace vantage::testkeys
