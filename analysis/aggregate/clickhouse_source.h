// Aggregation inside a collector's ClickHouse store: the GROUP BY runs in
// ClickHouse and returns cells (measurements sharing day, network, service,
// probe-day identity, feature, verdict, method) that feed the Aggregator, so
// rows are never pulled into the tool for Vantage's measurements. Rows
// without a recorded verdict (OONI's own measurements) are the exception:
// no SQL can run OONI's scorers, so those are fetched and scored here.
//
// Debian's ClickHouse (18.16) has no JSON path functions, only the
// visitParam* family, which finds a key anywhere in the text. The query
// therefore reads the collector's canonical form of a stored body
// (nlohmann's compact dump, keys sorted: test_keys.x_verdict ends with
// "methods":[..],"status":".."} and each feature is
// {"endpoints":{..},"methods":[..],"status":".."}). Bodies stored by
// anything else may not be read back; see reports/README.md.
#pragma once

#include <string>

#include "analysis/aggregate/ingest.h"

namespace vantage::analysis {

// url: clickhouse://HOST:PORT[/DATABASE] (database "vantage" by default).
// Applies ingest.options().filters in SQL. Returns "" or the error.
std::string aggregate_in_clickhouse(const std::string& url, Ingest& ingest);

// One statement over ClickHouse's HTTP interface; "" or the error.
std::string clickhouse_query(const std::string& url, const std::string& sql, std::string& out);

}  // namespace vantage::analysis
