// ClickHouse's HTTP interface, as the collector's store and the analysis's
// SQL aggregation both use it: string literals quoted one way, and one
// statement POSTed at a time, never through a proxy. Loopback or a private
// network only; the caller builds the statement.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace vantage::clickhouse {

// `text` as a ClickHouse string literal: in single quotes, with every quote
// and backslash escaped by a backslash.
std::string quote(std::string_view text);

struct Statement {
  std::string base_url;  // "http://HOST:PORT/"
  std::string sql;
  // With data, the SQL goes in the URL (?query=) and the data is the POST
  // body (INSERT ... FORMAT JSONEachRow); otherwise the SQL is the body.
  std::string data;
  std::string url_settings;  // more URL parameters ("async_insert=0"), "" = none
  std::chrono::milliseconds timeout{30000};
};

// Runs one statement; the answer's body goes to `out`. Returns "" or
// "clickhouse: BASE_URL: <curl's reason>" / "clickhouse: HTTP <status>:
// <the start of ClickHouse's message>".
std::string run(const Statement& statement, std::string& out);

}  // namespace vantage::clickhouse
