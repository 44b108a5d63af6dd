// `vantage upload` (and the upload at the end of `vantage run`): drains the
// spool under the results directory into a collector and prints what
// happened to each measurement. Also the function `vantage run` calls to put
// its measurements into the spool before anything else.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vantage::cli {

struct UploadOptions {
  std::string results_dir;    // the spool is <results_dir>/spool
  std::string collector_url;  // http(s)://...
  std::string ca_bundle;      // trusted instead of the system roots; "" = system
  std::string proxy;          // http://, https://, socks5://, socks5h://
  double timeout = 60;        // one request, seconds
  double connect_timeout = 10;
  bool respect_backoff = false;  // skip entries whose next retry time is in the future
  bool json = false;             // one JSON object per measurement instead of text
  bool list_only = false;        // only show the spool's state, upload nothing
  // Before uploading, ask the collector for the public address (whoami,
  // through the proxy, at most 5 s) and scrub it and this machine's
  // addresses from what is sent; `vantage run` passes what it learnt instead.
  bool learn_public_address = true;
  std::vector<std::string> scrub_addresses;
};

// Returns the exit code: 0 everything acknowledged (or nothing to do),
// 1 some measurements are still not uploaded (they stay in the spool),
// 2 usage error (bad URL, proxy, CA file). Writes to `out` / `err`.
int upload_command(const UploadOptions& options, std::ostream& out, std::ostream& err);
int upload_command(const UploadOptions& options);

// Puts `measurements` into the spool of `results_dir`, each written
// atomically. Returns "" or the first error (the others are still tried).
std::string spool_measurements(const std::string& results_dir, const std::vector<nlohmann::json>& measurements);

}  // namespace vantage::cli
