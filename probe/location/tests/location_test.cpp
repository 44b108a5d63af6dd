// Tests for the location library: GeoIP lookups in small .mmdb files written
// at build time (tests/data/make_mmdb.pl, libmaxmind-db-writer-perl), the
// override and "unknown" rules of locate(), and the address helpers.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "probe/location/geoip.h"
#include "probe/location/location.h"
#include "probe/location/public_address.h"

namespace vantage::location {
namespace {

namespace fs = std::filesystem;

class Location : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("vantage-location-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    // Written by CMake (tests/data/make_mmdb.pl); a missing file fails the tests.
    db_ = std::string(VANTAGE_TEST_MMDB_DIR) + "/test.mmdb";
    asn_only_ = std::string(VANTAGE_TEST_MMDB_DIR) + "/asn-only.mmdb";
    ASSERT_TRUE(fs::exists(db_)) << db_;
    ASSERT_TRUE(fs::exists(asn_only_)) << asn_only_;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static fs::path dir_;
  static std::string db_, asn_only_;
};
fs::path Location::dir_;
std::string Location::db_, Location::asn_only_;

TEST_F(Location, GeoDbAsnAndCountry) {
  std::string error;
  auto db = GeoDb::open(db_, error);
  ASSERT_TRUE(db) << error;
  auto a = db->asn("198.18.9.7");
  EXPECT_EQ(a.asn, "AS64512");
  EXPECT_EQ(a.network_name, "Lab NAT ISP");
  EXPECT_TRUE(a.note.empty());
  EXPECT_EQ(db->country("198.18.9.7").cc, "DE");
  EXPECT_EQ(db->asn("2001:db8:1:5::1").asn, "AS64514");
  EXPECT_EQ(db->country("2001:db8:1:5::1").cc, "FR");  // normalized to upper case
  EXPECT_EQ(db->asn("203.0.113.9").network_name, "");
}

TEST_F(Location, GeoDbUnknownSaysWhy) {
  std::string error;
  auto db = GeoDb::open(db_, error);
  ASSERT_TRUE(db);
  auto a = db->asn("198.51.100.1");
  EXPECT_EQ(a.asn, "AS0");
  EXPECT_NE(a.note.find("not in"), std::string::npos) << a.note;
  EXPECT_EQ(a.note.find("198.51.100.1"), std::string::npos);  // notes never carry the address
  EXPECT_EQ(a.note, "the address is not in test.mmdb");           // nor the path (a user name)
  auto no_asn = db->asn("192.0.2.5");
  EXPECT_FALSE(no_asn.known());
  EXPECT_NE(no_asn.note.find("autonomous_system_number"), std::string::npos);
  auto no_cc = db->country("203.0.113.9");
  EXPECT_EQ(no_cc.cc, "ZZ");
  EXPECT_NE(no_cc.note.find("country.iso_code"), std::string::npos);
  EXPECT_EQ(db->asn("not an ip").note, "not an IP address");
}

TEST_F(Location, GeoDbOpenErrorsNameTheFile) {
  std::string error;
  EXPECT_FALSE(GeoDb::open((dir_ / "missing.mmdb").string(), error));
  EXPECT_NE(error.find("missing.mmdb"), std::string::npos);
  std::ofstream((dir_ / "junk.mmdb").string()) << "not a database";
  error.clear();
  EXPECT_FALSE(GeoDb::open((dir_ / "junk.mmdb").string(), error));
  EXPECT_NE(error.find("junk.mmdb"), std::string::npos);
}

TEST_F(Location, LocateFromTheDatabases) {
  LocationOptions o;
  o.asn_db = db_;
  auto loc = locate(o, "198.18.9.7", "", "198.18.3.53", "");
  EXPECT_EQ(loc.probe_asn, "AS64512");
  EXPECT_EQ(loc.probe_cc, "DE");
  EXPECT_EQ(loc.probe_network_name, "Lab NAT ISP");
  EXPECT_EQ(loc.resolver_asn, "AS64513");
  EXPECT_EQ(loc.resolver_network_name, "Lab Resolvers");
  EXPECT_EQ(loc.source, "geoip");
  EXPECT_EQ(loc.note, "");
  // A separate country database.
  o.asn_db = asn_only_;
  o.country_db = db_;
  loc = locate(o, "198.18.9.7", "", "", "no nameserver");
  EXPECT_EQ(loc.probe_asn, "AS64512");
  EXPECT_EQ(loc.probe_cc, "DE");
  EXPECT_NE(loc.note.find("resolver address unknown (no nameserver)"), std::string::npos);
}

TEST_F(Location, UnknownIsSaidNeverGuessed) {
  LocationOptions o;
  auto loc = locate(o, "", "the collector's whoami could not be reached", "", "");
  EXPECT_EQ(loc.probe_asn, "AS0");
  EXPECT_EQ(loc.probe_cc, "ZZ");
  EXPECT_EQ(loc.source, "none");
  EXPECT_NE(loc.note.find("public address unknown (the collector's whoami could not be reached)"), std::string::npos);
  o.asn_db = db_;
  loc = locate(o, "198.51.100.1", "", "", "");
  EXPECT_EQ(loc.probe_asn, "AS0");
  EXPECT_EQ(loc.probe_cc, "ZZ");
  EXPECT_NE(loc.note.find("probe ASN: the address is not in"), std::string::npos) << loc.note;
  EXPECT_NE(loc.note.find("probe country:"), std::string::npos) << loc.note;
  EXPECT_EQ(loc.note.find("198.51.100.1"), std::string::npos);
  o.asn_db = (dir_ / "missing.mmdb").string();
  loc = locate(o, "198.18.9.7", "", "", "");
  EXPECT_NE(loc.note.find("ASN database missing.mmdb cannot be opened"), std::string::npos) << loc.note;
  EXPECT_EQ(loc.note.find(dir_.string()), std::string::npos);
  o.asn_db.clear();
  loc = locate(o, "198.18.9.7", "", "", "");
  EXPECT_NE(loc.note.find("no ASN database"), std::string::npos);
  EXPECT_NE(loc.note.find("no country database"), std::string::npos);
}

TEST_F(Location, ManualOverrideWins) {
  LocationOptions o;
  o.asn_db = db_;
  o.probe_asn = "as3320";
  o.probe_cc = "it";
  o.probe_network_name = "My ISP";
  auto loc = locate(o, "198.18.9.7", "", "", "");
  EXPECT_EQ(loc.probe_asn, "AS3320");
  EXPECT_EQ(loc.probe_cc, "IT");
  EXPECT_EQ(loc.probe_network_name, "My ISP");
  EXPECT_EQ(loc.source, "manual");
  // Only the country given: the ASN is still looked up.
  o.probe_asn.clear();
  o.probe_network_name.clear();
  loc = locate(o, "198.18.9.7", "", "", "");
  EXPECT_EQ(loc.probe_asn, "AS64512");
  EXPECT_EQ(loc.probe_cc, "IT");
  EXPECT_EQ(loc.source, "geoip+manual");
}

TEST_F(Location, OptionErrorsNameTheFlag) {
  LocationOptions o;
  EXPECT_EQ(check_location_options(o), "");
  o.probe_asn = "ASx";
  EXPECT_NE(check_location_options(o).find("--probe-asn"), std::string::npos);
  o.probe_asn = "AS0";
  EXPECT_NE(check_location_options(o).find("--probe-asn"), std::string::npos);
  o.probe_asn = "64500";
  o.probe_cc = "DEU";
  EXPECT_NE(check_location_options(o).find("--probe-cc"), std::string::npos);
  o.probe_cc = "de";
  o.asn_db = (dir_ / "missing.mmdb").string();
  EXPECT_NE(check_location_options(o).find("--geoip-asn-db"), std::string::npos);
  o.asn_db = db_;
  o.country_db = (dir_ / "missing.mmdb").string();
  EXPECT_NE(check_location_options(o).find("--geoip-country-db"), std::string::npos);
  o.country_db = db_;
  EXPECT_EQ(check_location_options(o), "");
}

TEST(Address, NormalizeAndGlobal) {
  EXPECT_EQ(normalize_ip("2001:0DB8::0001"), "2001:db8::1");
  EXPECT_EQ(normalize_ip("::ffff:198.18.9.7"), "198.18.9.7");
  EXPECT_EQ(normalize_ip("nope"), "");
  EXPECT_TRUE(is_global_address("198.18.9.7"));
  EXPECT_TRUE(is_global_address("2001:db8::1"));
  for (const char* local : {"127.0.0.53", "10.1.2.3", "192.168.1.1", "172.20.0.1", "100.64.0.1", "169.254.1.1", "::1",
                            "fe80::1", "fd00::1", "0.0.0.0", "x"})
    EXPECT_FALSE(is_global_address(local)) << local;
}

TEST(Address, SystemResolver) {
  auto path = fs::temp_directory_path() / ("vantage-resolv-" + std::to_string(getpid()));
  std::ofstream(path) << "# comment\nsearch lab\nnameserver 198.18.3.53\nnameserver 198.18.3.54\n";
  EXPECT_EQ(system_resolver_address(path.string()).ip, "198.18.3.53");
  std::ofstream(path) << "nameserver 127.0.0.53\n";
  auto stub = system_resolver_address(path.string());
  EXPECT_EQ(stub.ip, "");
  EXPECT_NE(stub.failure.find("local"), std::string::npos);
  std::ofstream(path) << "options edns0\n";
  EXPECT_NE(system_resolver_address(path.string()).failure.find("no nameserver"), std::string::npos);
  fs::remove(path);
  EXPECT_NE(system_resolver_address(path.string()).failure.find("cannot be read"), std::string::npos);
}

TEST(Address, WhoamiFailuresAreBoundedAndSaid) {
  WhoamiOptions o;
  EXPECT_EQ(ask_public_address(o).failure, "no collector URL to ask");
  o.collector_url = "http://127.0.0.1:1";  // nothing listens on port 1
  o.timeout = std::chrono::milliseconds(2000);
  auto start = std::chrono::steady_clock::now();
  auto a = ask_public_address(o);
  EXPECT_EQ(a.ip, "");
  EXPECT_NE(a.failure.find("could not be reached"), std::string::npos) << a.failure;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace vantage::location
