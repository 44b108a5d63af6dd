// Tests for the consent record and the onboarding questions: nothing is
// given until agreed, the record is private (0600) and names the text's
// version, a record for another version asks again, and a wrong or missing
// answer records nothing.
#include "probe/config/consent.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace vantage::config {
namespace {

namespace fs = std::filesystem;

std::string temp_dir() {
  static std::atomic<int> counter{0};
  auto p = fs::temp_directory_path() / ("vantage_consent_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
  fs::remove_all(p);
  return p.string();
}

TEST(Consent, NotGivenUntilRecorded) {
  auto dir = temp_dir();
  auto st = read_consent(dir);
  EXPECT_FALSE(st.given);
  EXPECT_NE(consent_missing_message(st).find("`vantage onboard`"), std::string::npos);
  ASSERT_EQ(record_consent(dir, "--yes"), "");
  st = read_consent(dir);
  EXPECT_TRUE(st.given);
  EXPECT_EQ(st.version, kConsentVersion);
  EXPECT_EQ(st.agreed_at.size(), 20u);  // 2026-12-01T22:00:00Z
  struct stat sb {};
  ASSERT_EQ(stat(consent_path(dir).c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  std::ifstream in(consent_path(dir));
  auto doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc["how"], "--yes");
  fs::remove_all(dir);
}

TEST(Consent, AnotherVersionOfTheTextAsksAgain) {
  auto dir = temp_dir();
  fs::create_directories(dir);
  std::ofstream(consent_path(dir)) << R"({"version": )" << kConsentVersion + 1 << R"(, "agreed_at": "2026-01-01T00:00:00Z"})";
  auto st = read_consent(dir);
  EXPECT_FALSE(st.given);
  EXPECT_NE(consent_missing_message(st).find("has changed since you agreed"), std::string::npos);
  std::ofstream(consent_path(dir)) << "garbage";
  st = read_consent(dir);
  EXPECT_FALSE(st.given);
  EXPECT_NE(consent_missing_message(st).find("is not a consent record"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Consent, TheTextSaysWhatMatters) {
  const auto& t = consent_text();
  for (const char* must : {"Anyone who can watch your network traffic", "Results are published", "your country",
                           "against the law", "vantage schedule remove", "Measurements already published"})
    EXPECT_NE(t.find(must), std::string::npos) << must;
}

TEST(Consent, QuestionMustBeAnsweredRightThenAgreed) {
  {
    std::istringstream in("a\nc\nyes\n");
    std::ostringstream out;
    EXPECT_TRUE(ask_consent(in, out));
    EXPECT_NE(out.str().find("Not quite"), std::string::npos);
  }
  {
    std::istringstream in("a\nb\na\n");
    std::ostringstream out;
    EXPECT_FALSE(ask_consent(in, out));
    EXPECT_NE(out.str().find("nothing recorded"), std::string::npos);
  }
  {
    std::istringstream in("c\nno\n");
    std::ostringstream out;
    EXPECT_FALSE(ask_consent(in, out));
  }
  {
    std::istringstream in("");
    std::ostringstream out;
    EXPECT_FALSE(ask_consent(in, out));
    EXPECT_NE(out.str().find("no answer"), std::string::npos);
  }
}

}  // namespace
}  // namespace vantage::config
