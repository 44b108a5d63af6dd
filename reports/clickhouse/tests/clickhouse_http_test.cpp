// Tests for ClickHouse's HTTP client: string literals that cannot break out
// of their quotes, and an unreachable server reported, not thrown.
#include "reports/clickhouse/clickhouse_http.h"

#include <gtest/gtest.h>

namespace vantage::clickhouse {
namespace {

TEST(ClickHouseQuote, EscapesQuotesAndBackslashes) {
  EXPECT_EQ(quote("DE"), "'DE'");
  EXPECT_EQ(quote(""), "''");
  EXPECT_EQ(quote("it's"), "'it\\'s'");
  EXPECT_EQ(quote("a\\' OR 1=1 --"), "'a\\\\\\' OR 1=1 --'");
}

TEST(ClickHouseRun, UnreachableServerIsAnError) {
  Statement s;
  s.base_url = "http://127.0.0.1:9/";  // discard: nothing listens on loopback
  s.sql = "SELECT 1";
  s.timeout = std::chrono::seconds(5);
  std::string out = "stale";
  const std::string error = run(s, out);
  EXPECT_EQ(error.rfind("clickhouse: http://127.0.0.1:9/: ", 0), 0u) << error;
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace vantage::clickhouse
