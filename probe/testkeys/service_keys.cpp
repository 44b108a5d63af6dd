// The table of services with OONI-specific keys. See service_keys.h.
#include "probe/testkeys/service_keys.h"

namespace vantage::testkeys {

namespace {

struct Entry {
  const char* test_name;
  ServiceKeysBuilder build;
};

// One row per OONI test whose keys are more than per-feature statuses.
constexpr Entry kBuilders[] = {
    {"whatsapp", add_whatsapp_keys},
    {"signal", add_signal_keys},
    {"wechat", add_wechat_keys},
    {"facebook_messenger", add_facebook_messenger_keys},
    {"telegram", add_telegram_keys},
};

}  // namespace

ServiceKeysBuilder service_keys_builder(const std::string& test_name) {
  for (const auto& e : kBuilders)
    if (test_name == e.test_name) return e.build;
  return nullptr;
}

}  // namespace vantage::testkeys
