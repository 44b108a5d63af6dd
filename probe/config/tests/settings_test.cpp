// Tests for the configuration file: typed values, the user file overriding
// the system file, errors naming file, line, key and what was expected, and
// `config set` editing one value while keeping the rest of the file.
#include "probe/config/settings.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vantage::config {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() / ("vantage_config_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return (path_ / name).string();
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path_ / name, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

TEST(Settings, ReadsEveryKeyTyped) {
  Settings s;
  auto errors = load_text(R"([collector]
url = "https://collector.example/"
proxy = "socks5h://127.0.0.1:9050"
upload = false
[control]
url = "http://198.18.2.2/"
[run]
services = ["whatsapp", "signal"]
timeout = 90
connect_timeout = 2.5
parallelism = 8
catalog_dir = "/usr/share/vantage/tests_catalog"
data_dir = "/var/lib/vantage"
[location]
asn_db = "/var/lib/geo/asn.mmdb"
country_db = "/var/lib/geo/cc.mmdb"
probe_asn = "AS64512"
probe_cc = "DE"
probe_network_name = "Example Net"
)",
                          "t.conf", s);
  ASSERT_TRUE(errors.empty()) << errors.front().to_string();
  EXPECT_EQ(*s.collector.url, "https://collector.example/");
  EXPECT_EQ(*s.collector.proxy, "socks5h://127.0.0.1:9050");
  EXPECT_FALSE(*s.collector.upload);
  EXPECT_EQ(*s.control.url, "http://198.18.2.2/");
  EXPECT_EQ(*s.run.services, (std::vector<std::string>{"whatsapp", "signal"}));
  EXPECT_EQ(*s.run.timeout, 90);
  EXPECT_EQ(*s.run.connect_timeout, 2.5);
  EXPECT_EQ(*s.run.parallelism, 8);
  EXPECT_EQ(*s.run.data_dir, "/var/lib/vantage");
  EXPECT_EQ(*s.location.asn_db, "/var/lib/geo/asn.mmdb");
  EXPECT_EQ(*s.location.country_db, "/var/lib/geo/cc.mmdb");
  EXPECT_EQ(*s.location.probe_asn, "AS64512");
  EXPECT_EQ(*s.location.probe_cc, "DE");
  EXPECT_EQ(*s.location.probe_network_name, "Example Net");
  EXPECT_EQ(s.origins["run.timeout"].file, "t.conf");
  EXPECT_EQ(s.origins["run.timeout"].line, 9);
  EXPECT_EQ(s.origins["run.services"].value, "[\"whatsapp\", \"signal\"]");
}

TEST(Settings, UserFileOverridesSystemFileKeyByKey) {
  TempDir d;
  auto sys = d.write("system.conf", "[run]\ntimeout = 60\nparallelism = 4\n");
  auto user = d.write("user.conf", "[run]\ntimeout = 30\n");
  Settings s;
  auto errors = load({sys, user, d.file("missing.conf")}, {}, s);
  ASSERT_TRUE(errors.empty()) << errors.front().to_string();
  EXPECT_EQ(*s.run.timeout, 30);
  EXPECT_EQ(s.origins["run.timeout"].file, user);
  EXPECT_EQ(*s.run.parallelism, 4);
  EXPECT_EQ(s.origins["run.parallelism"].file, sys);
  EXPECT_FALSE(s.collector.url);
}

TEST(Settings, RequiredFileMustExist) {
  TempDir d;
  Settings s;
  auto errors = load({d.file("nope.conf")}, {d.file("nope.conf")}, s);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to_string(), d.file("nope.conf") + ": no such file");
}

struct BadCase {
  const char* text;
  int line;
  const char* key;
  const char* message_part;
};

TEST(Settings, BadValuesNameFileLineKeyAndWhatWasExpected) {
  const BadCase cases[] = {
      {"[run]\n\ntimeout = \"soon\"\n", 3, "run.timeout", "expected a number of seconds from 1 to 3600"},
      {"[run]\ntimeout = 0\n", 2, "run.timeout", "from 1 to 3600"},
      {"[run]\nparallelism = 2.5\n", 2, "run.parallelism", "a whole number from 1 to 512"},
      {"[run]\nservices = []\n", 2, "run.services", "non-empty array of service names"},
      {"[run]\nservices = [\"Signal!\"]\n", 2, "run.services", "service names"},
      {"[collector]\nurl = \"ftp://x\"\n", 2, "collector.url", "http:// or https:// URL"},
      {"[collector]\nproxy = \"socks4://x:1\"\n", 2, "collector.proxy", "socks5h://"},
      {"[collector]\nupload = \"yes\"\n", 2, "collector.upload", "expected true or false"},
      {"[location]\nprobe_asn = \"12345\"\n", 2, "location.probe_asn", "\"AS12345\""},
      {"[location]\nprobe_asn = \"AS99999999999\"\n", 2, "location.probe_asn", "\"AS12345\""},
      {"[location]\nprobe_cc = \"de\"\n", 2, "location.probe_cc", "two uppercase letters"},
      {"[location]\nprobe_cc = \"DEU\"\n", 2, "location.probe_cc", "two uppercase letters"},
      {"[location]\nasn_db = \"\"\n", 2, "location.asn_db", "non-empty string"},
      {"[run]\ntimeuot = 3\n", 2, "run.timeuot", "unknown key (known in [run]: services, timeout"},
      {"\n[colector]\nurl = \"http://x\"\n", 2, "colector", "unknown section (known sections: [collector], [control]"},
      {"verbose = true\n", 1, "verbose", "unknown key (known sections:"},
      {"[run]\ntimeout = [1,\n", 2, "", "not valid TOML"},
  };
  for (const auto& c : cases) {
    Settings s;
    auto errors = load_text(c.text, "/etc/vantage/vantage.conf", s);
    ASSERT_EQ(errors.size(), 1u) << c.text;
    EXPECT_EQ(errors[0].file, "/etc/vantage/vantage.conf");
    EXPECT_EQ(errors[0].line, c.line) << c.text;
    EXPECT_EQ(errors[0].key, c.key) << c.text;
    EXPECT_NE(errors[0].message.find(c.message_part), std::string::npos) << errors[0].to_string();
    // Nothing of a bad file is applied.
    EXPECT_TRUE(s.origins.empty()) << c.text;
  }
  Settings s;
  auto errors = load_text("[run]\ntimeout = \"soon\"\n", "f.conf", s);
  EXPECT_EQ(errors[0].to_string(), "f.conf:2: run.timeout: expected a number of seconds from 1 to 3600 (the whole run)");
}

TEST(Settings, EveryErrorOfAFileIsReported) {
  Settings s;
  auto errors = load_text("[run]\ntimeout = -1\nparallelism = 0\nfoo = 1\n", "f.conf", s);
  EXPECT_EQ(errors.size(), 3u);
}

TEST(Settings, CliValuesAreCheckedLikeFileValues) {
  std::string v;
  EXPECT_EQ(parse_cli_value("run.timeout", "45", v), "");
  EXPECT_EQ(v, "45");
  EXPECT_EQ(parse_cli_value("run.services", "whatsapp,signal", v), "");
  EXPECT_EQ(v, "[\"whatsapp\", \"signal\"]");
  EXPECT_EQ(parse_cli_value("collector.upload", "no", v), "");
  EXPECT_EQ(v, "false");
  EXPECT_EQ(parse_cli_value("location.probe_network_name", "A \"quoted\" net", v), "");
  EXPECT_EQ(v, "\"A \\\"quoted\\\" net\"");
  EXPECT_NE(parse_cli_value("run.timeout", "inf", v).find("expected a number of seconds"), std::string::npos);
  EXPECT_NE(parse_cli_value("run.timeout", "9999", v).find("from 1 to 3600"), std::string::npos);
  EXPECT_NE(parse_cli_value("location.probe_cc", "xx", v).find("two uppercase letters"), std::string::npos);
  EXPECT_NE(parse_cli_value("run.nope", "1", v).find("unknown key \"run.nope\""), std::string::npos);
}

TEST(Settings, SetKeepsOtherKeysAndComments) {
  TempDir d;
  auto path = d.write("vantage.conf",
                      "# my probe\n[collector]\nurl = \"http://old/\"  # the lab's\n\n[run]\n"
                      "services = [\n  \"whatsapp\",\n]\ntimeout = 60\n");
  ASSERT_EQ(set_in_file(path, "collector.url", "https://new.example/"), "");
  ASSERT_EQ(set_in_file(path, "run.services", "signal"), "");
  ASSERT_EQ(set_in_file(path, "run.parallelism", "4"), "");
  ASSERT_EQ(set_in_file(path, "location.probe_cc", "FR"), "");
  EXPECT_EQ(d.read("vantage.conf"),
            "# my probe\n[collector]\nurl = \"https://new.example/\"  # the lab's\n\n[run]\n"
            "services = [\"signal\"]\ntimeout = 60\nparallelism = 4\n\n[location]\nprobe_cc = \"FR\"\n");
  Settings s;
  ASSERT_TRUE(load({path}, {path}, s).empty());
  EXPECT_EQ(*s.run.timeout, 60);
  EXPECT_EQ(*s.run.services, std::vector<std::string>{"signal"});
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(Settings, SetCreatesTheFileAndItsDirectory) {
  TempDir d;
  std::string path = d.file("sub/dir/vantage.conf");
  ASSERT_EQ(set_in_file(path, "collector.url", "http://198.18.2.2/"), "");
  EXPECT_EQ(d.read("sub/dir/vantage.conf"), "[collector]\nurl = \"http://198.18.2.2/\"\n");
}

TEST(Settings, SetRefusesABadValueOrABadFileAndChangesNothing) {
  TempDir d;
  std::string before = "[run]\ntimeout = 60\n";
  auto path = d.write("vantage.conf", before);
  EXPECT_NE(set_in_file(path, "run.timeout", "never").find("run.timeout: expected"), std::string::npos);
  EXPECT_EQ(d.read("vantage.conf"), before);
  std::string broken = "[run]\ntimeout = 60\nbogus = 1\n";
  d.write("vantage.conf", broken);
  auto err = set_in_file(path, "run.timeout", "30");
  EXPECT_NE(err.find(":3: run.bogus: unknown key"), std::string::npos) << err;
  EXPECT_NE(err.find("nothing was changed"), std::string::npos) << err;
  EXPECT_EQ(d.read("vantage.conf"), broken);
}

}  // namespace
}  // namespace vantage::config
