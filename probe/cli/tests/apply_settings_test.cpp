// Tests for merging the configuration file under the run's flags: a flag
// given wins, an unset key leaves the built-in default, and a collector in
// the file means uploading unless the file or a flag says not to.
#include <gtest/gtest.h>

#include "probe/cli/run_command.h"

namespace vantage::cli {
namespace {

config::Settings file_settings() {
  config::Settings s;
  s.run.timeout = 30;
  s.run.services = std::vector<std::string>{"signal"};
  s.run.data_dir = "/var/lib/vantage";
  s.collector.url = "http://198.18.2.2/";
  s.location.probe_cc = "DE";
  return s;
}

TEST(ApplySettings, FileFillsWhatNoFlagGave) {
  RunOptions run;
  run.services = {"all"};
  apply_settings(file_settings(), RunFlagsGiven{}, run);
  EXPECT_EQ(run.timeout, 30);
  EXPECT_EQ(run.services, std::vector<std::string>{"signal"});
  EXPECT_EQ(run.results_dir, "/var/lib/vantage");
  EXPECT_EQ(run.parallelism, 128);  // not in the file: the default stays
  EXPECT_EQ(run.collector_url, "http://198.18.2.2/");
  EXPECT_TRUE(run.upload);
  EXPECT_EQ(run.location.probe_cc, "DE");
}

TEST(ApplySettings, FlagsWin) {
  RunOptions run;
  run.timeout = 99;
  run.services = {"whatsapp"};
  run.upload = false;
  RunFlagsGiven given;
  given.timeout = given.services = given.upload = true;
  apply_settings(file_settings(), given, run);
  EXPECT_EQ(run.timeout, 99);
  EXPECT_EQ(run.services, std::vector<std::string>{"whatsapp"});
  EXPECT_FALSE(run.upload);  // --no-upload
}

TEST(ApplySettings, UploadFalseInTheFileKeepsMeasurementsLocal) {
  auto s = file_settings();
  s.collector.upload = false;
  RunOptions run;
  apply_settings(s, RunFlagsGiven{}, run);
  EXPECT_FALSE(run.upload);
  config::Settings none;
  RunOptions run2;
  apply_settings(none, RunFlagsGiven{}, run2);
  EXPECT_FALSE(run2.upload);
}

TEST(ApplySettings, LocationFromTheFileUnlessAFlagGaveIt) {
  auto s = file_settings();
  s.location.asn_db = "/usr/share/GeoIP/asn.mmdb";
  s.location.probe_asn = "AS64500";
  RunOptions run;
  run.location.probe_cc = "FR";  // --probe-cc FR
  RunFlagsGiven given;
  given.probe_cc = true;
  apply_settings(s, given, run);
  EXPECT_EQ(run.location.asn_db, "/usr/share/GeoIP/asn.mmdb");
  EXPECT_EQ(run.location.probe_asn, "AS64500");
  EXPECT_EQ(run.location.probe_cc, "FR");
  EXPECT_EQ(run.location.country_db, "");  // neither: looked up from the ASN db
}

}  // namespace
}  // namespace vantage::cli
