// Telegram's OONI keys (ts-020, spec 2022-12-07-001; as OONI's telegram
// test_version 0.3.0) beyond the per-feature ones:
//   telegram_tcp_blocking   no data centre accepted a TCP connection, on
//                           port 80 or 443
//   telegram_http_blocking  no data centre answered the HTTP POST (any
//                           response counts: the real ones answer 404 or 501)
//   x_ooni_spec             which spec the keys follow
// Both are null when no data centre was measured (e.g. the run was cut
// short): no claim either way, where OONI would say true. The data centres
// are the catalog's endpoints reached by address (host an IP literal), as
// OONI's test defines them; only each chain's final attempt counts.
// telegram_web_status/_failure are the web feature's catalog `ooni_keys`.
#include <set>

#include "probe/testkeys/service_keys.h"
#include "reports/format/json_read.h"
#include "reports/format/plan.h"
#include "reports/format/vocabulary.h"

namespace vantage::testkeys {

using nlohmann::json;

void add_telegram_keys(const catalog::Service& /*service*/, json& keys) {
  const json none;
  std::set<int64_t> dc_chains;  // final attempts of the data centres' chains
  for (const auto& ep : format::planned_endpoints_from_json(keys.contains("x_endpoints") ? keys["x_endpoints"] : none))
    if (catalog::is_address_literal(ep.host) && ep.transaction_id && ep.failure != vocab::kInterrupted)
      dc_chains.insert(*ep.transaction_id);
  auto of_dc = [&](const json& o) {
    return o.is_object() && dc_chains.count(format::read_optional_integer(o, "transaction_id").value_or(-1)) > 0;
  };
  bool connected = false, answered = false;
  for (const auto& o : keys.value("tcp_connect", json::array()))
    if (of_dc(o) && o.contains("status") && o["status"].is_object())
      connected = connected || format::read_bool(o["status"], "success", false);
  for (const auto& o : keys.value("requests", json::array()))
    if (of_dc(o) && o.contains("failure") && o["failure"].is_null()) answered = true;
  const bool measured = !dc_chains.empty();
  keys["telegram_tcp_blocking"] = measured ? json(!connected) : json(nullptr);
  keys["telegram_http_blocking"] = measured ? json(!answered) : json(nullptr);
  keys["x_ooni_spec"] = "ts-020 (2022-12-07-001), keys as OONI telegram 0.3.0";
}

}  // namespace vantage::testkeys
