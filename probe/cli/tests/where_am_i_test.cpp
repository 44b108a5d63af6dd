// Tests for the run's location step: unknown is AS0/ZZ with a note in the
// annotations, a known location fills the envelope, no address leaks into it.
#include <gtest/gtest.h>

#include "probe/cli/where_am_i.h"

namespace vantage::cli {
namespace {

TEST(WhereAmI, NoCollectorMeansUnknownWithANote) {
  auto w = where_am_i({}, "", "", std::chrono::milliseconds(100));
  EXPECT_EQ(w.public_ip, "");
  format::Envelope e;
  apply_location(e, w);
  auto m = format::make_measurement(e, nlohmann::json::object());
  EXPECT_EQ(m["probe_asn"], "AS0");
  EXPECT_EQ(m["probe_cc"], "ZZ");
  EXPECT_EQ(m["annotations"]["x_location_source"], "none");
  EXPECT_NE(m["annotations"]["x_location_note"].get<std::string>().find("no collector configured"), std::string::npos);
  EXPECT_NE(location_summary(w).find("unknown (measurements say AS0/ZZ)"), std::string::npos);
}

TEST(WhereAmI, ManualOverrideFillsTheEnvelope) {
  location::LocationOptions o;
  o.probe_asn = "64500";
  o.probe_cc = "nl";
  o.probe_network_name = "Test Net";
  WhereAmI w;
  w.public_ip = "198.18.9.7";
  w.resolver_ip = "198.18.3.53";
  w.location = location::locate(o, w.public_ip, "", w.resolver_ip, "");
  format::Envelope e;
  apply_location(e, w);
  auto m = format::make_measurement(e, nlohmann::json::object());
  EXPECT_EQ(m["probe_asn"], "AS64500");
  EXPECT_EQ(m["probe_cc"], "NL");
  EXPECT_EQ(m["probe_network_name"], "Test Net");
  EXPECT_EQ(m["resolver_ip"], "198.18.3.53");
  EXPECT_EQ(m["annotations"]["x_location_source"], "manual");
  EXPECT_EQ(m.dump().find("198.18.9.7"), std::string::npos);  // the public address is never written
  EXPECT_EQ(location_summary(w).find("198.18.9.7"), std::string::npos);
  EXPECT_NE(location_summary(w).find("AS64500 (Test Net), NL"), std::string::npos);
}

}  // namespace
}  // namespace vantage::cli
