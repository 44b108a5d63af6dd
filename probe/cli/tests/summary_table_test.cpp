// The run's summary: the table's per-family evidence and the IPv6 note.
#include "probe/cli/summary_table.h"

#include <gtest/gtest.h>

namespace vantage::cli {
namespace {

using nlohmann::json;

json measurement(const json& x_ipv6, const json& features = json::object()) {
  return {{"test_name", "signal"},
          {"test_keys",
           {{"x_ipv6", x_ipv6},
            {"x_verdict", {{"status", "partially_blocked"}, {"methods", {"tls"}}, {"features", features},
                           {"endpoints", json::array()}, {"confidence", "high"}}}}}};
}

TEST(SummaryTable, SaysOnceWhyIpv6WasNotMeasured) {
  const json no_route = {{"usable", false}, {"reason", "no_ipv6_route"}, {"addresses", 0}};
  EXPECT_EQ(ipv6_summary({measurement(no_route), measurement(no_route)}),
            "IPv6 not measured: this host has no IPv6 route");
  EXPECT_EQ(ipv6_summary({measurement({{"usable", false}, {"reason", "no_global_ipv6_address"}})}),
            "IPv6 not measured: this host has no global IPv6 address");
  EXPECT_EQ(ipv6_summary({measurement({{"usable", true}, {"reason", nullptr}, {"addresses", 3}})}), "");
  // Nothing to say when no name had an AAAA answer, or from measurements
  // without the key (older runs).
  EXPECT_EQ(ipv6_summary({measurement({{"usable", nullptr}, {"reason", "no_aaaa_answer"}})}), "");
  EXPECT_EQ(ipv6_summary({json{{"test_name", "x"}, {"test_keys", json::object()}}}), "");
}

TEST(SummaryTable, AFeatureBlockedOverOneFamilySaysWhich) {
  const json features = {{"messaging", {{"status", "partially_blocked"}, {"methods", {"tls"}},
                                        {"families", {{"ipv4", "blocked"}, {"ipv6", "accessible"}}}}},
                         {"contacts", {{"status", "accessible"}, {"methods", json::array()},
                                       {"families", {{"ipv4", "accessible"}, {"ipv6", "accessible"}}}}}};
  const std::string table = summary_table({measurement({{"usable", true}}, features)});
  EXPECT_NE(table.find("partially_blocked"), std::string::npos) << table;
  EXPECT_NE(table.find("ipv4 blocked, ipv6 accessible"), std::string::npos) << table;
  EXPECT_EQ(table.find("ipv4 accessible"), std::string::npos) << table;
}

}  // namespace
}  // namespace vantage::cli
