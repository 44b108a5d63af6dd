// The probe's side of the OONI collector protocol (reports/collector/README.md), over
// libcurl: open a report, submit measurements, close it. Bodies are sent
// gzip-compressed; TLS peers are always verified (a custom CA bundle may
// replace the system's roots, verification can never be turned off);
// HTTP(S) and SOCKS5 proxies (socks5h:// resolves names through the proxy).
// Connection errors (the request never reached the collector) are retried at
// once, up to `immediate_retries` times; every other failure is returned for
// the caller to retry later (uploader.h spaces those out).
//
// Must never: throw; send anything but what it is given (it does not scrub
// or change measurements); follow redirects (a redirect could move a
// volunteer's measurements to another host).
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace vantage::upload {

struct ClientOptions {
  std::string collector_url;  // http(s)://host[:port][/prefix]
  std::string ca_bundle;      // PEM file trusted instead of the system roots; "" = system
  std::string proxy;          // "", http://, https://, socks5://, socks5h://HOST:PORT
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{60000};  // one request, start to end
  int immediate_retries = 3;
  std::chrono::milliseconds retry_pause{300};
  bool gzip = true;
};

// Returns "" or why `options` cannot work (bad URL or proxy scheme, CA file
// unreadable), naming the option.
std::string check_options(const ClientOptions& options);

struct Outcome {
  std::string failure;          // "" = success; an OONI failure string otherwise
  int http_status = 0;          // 0 = no HTTP answer
  std::string error;            // the collector's {"error"} text, or curl's message
  bool connection_error = false;  // the collector could not be reached at all
  std::string report_id;        // open_report
  std::string measurement_uid;  // submit
  int tries = 0;                // requests made (1 + immediate retries)
};

class CollectorClient {
 public:
  explicit CollectorClient(ClientOptions options);
  ~CollectorClient();
  CollectorClient(const CollectorClient&) = delete;
  CollectorClient& operator=(const CollectorClient&) = delete;

  // The report's metadata is taken from `measurement` (test_name, probe_cc,
  // probe_asn, software_*, test_version, test_start_time).
  Outcome open_report(const nlohmann::json& measurement);
  // Submits `measurement` with its report_id set to `report_id`.
  Outcome submit(const std::string& report_id, const nlohmann::json& measurement);
  Outcome close_report(const std::string& report_id);

 private:
  Outcome post(const std::string& path, const std::string& body);
  Outcome post_once(const std::string& url, const std::string& body);

  ClientOptions options_;
  void* curl_ = nullptr;  // one handle: connections are kept alive across requests
};

// gzip (RFC 1952) of `data`; "" only on an allocation failure.
std::string gzip_compress(const std::string& data);

}  // namespace vantage::upload
