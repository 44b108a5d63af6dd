// http_request against real loopback HTTP(S) servers: status and heads,
// bounded bodies, early stops that are not failures, pinning, POST, and the
// failure names for refused, reset and bad certificates.
#include "probe/net/http_request.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "probe/net/tests/loopback_servers.h"
#include "probe/net/tests/test_pki.h"

namespace vantage::net {
namespace {

using namespace std::chrono_literals;
using testing::ClosedPort;
using testing::HttpServer;
using testing::RawTcpServer;
using testing::test_pki;
using testing::bundle_trust;

std::string header(const format::HeaderList& headers, const std::string& name) {
  for (const auto& [key, value] : headers) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  }
  return "<absent>";
}

std::string failure_of(const format::HttpObservation& obs) { return obs.failure.value_or(""); }

format::HttpObservation get(const std::string& url, HttpOptions options = {}) {
  StepClock clock;
  options.url = url;
  options.timeout = 5000ms;
  return http_request(options, {&clock, 9});
}

std::string local(int port, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

TEST(HttpRequest, Records200WithHeadsAndBody) {
  HttpServer server;
  HttpOptions options;
  options.user_agent = "vantage-test/1";
  auto obs = get(local(server.port(), "/hello"), options);
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.status_code, 200);
  EXPECT_EQ(obs.url, local(server.port(), "/hello"));
  EXPECT_EQ(obs.method, "GET");
  EXPECT_EQ(obs.address, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(obs.transaction_id, 9);
  EXPECT_LE(obs.t0, obs.t);
  EXPECT_EQ(header(obs.response_headers, "X-Vantage-Test"), "yes");
  EXPECT_EQ(header(obs.response_headers, "Content-Length"), "13");
  EXPECT_EQ(header(obs.request_headers, "User-Agent"), "vantage-test/1");
  EXPECT_EQ(header(obs.request_headers, "Host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(obs.response_body.data, "hello vantage");
  EXPECT_FALSE(obs.response_body.truncated);
  EXPECT_EQ(obs.body_bytes_received, 13u);
  EXPECT_EQ(obs.alpn, "");  // cleartext: nothing negotiated
}

TEST(HttpRequest, Records404AsStatusNotFailure) {
  HttpServer server;
  auto obs = get(local(server.port(), "/missing"));
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.status_code, 404);
  EXPECT_NE(header(obs.response_headers, "Content-Length"), "<absent>");
}

TEST(HttpRequest, DoesNotFollowRedirectsUnlessAsked) {
  HttpServer server;
  auto obs = get(local(server.port(), "/redirect"));
  EXPECT_EQ(obs.status_code, 302);
  EXPECT_EQ(header(obs.response_headers, "Location"), "/hello");

  HttpOptions follow;
  follow.follow_redirects = true;
  auto followed = get(local(server.port(), "/redirect"), follow);
  EXPECT_EQ(followed.status_code, 200);
  EXPECT_EQ(followed.response_body.data, "hello vantage");
  // Only the final response's headers are kept.
  EXPECT_EQ(header(followed.response_headers, "Location"), "<absent>");
  EXPECT_EQ(header(followed.response_headers, "X-Vantage-Test"), "yes");
}

TEST(HttpRequest, TruncatesBodyAtMaxBodyButCountsEveryByte) {
  HttpServer server;
  HttpOptions options;
  options.max_body = 1000;
  auto obs = get(local(server.port(), "/bytes/100000"), options);
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.status_code, 200);
  EXPECT_EQ(obs.response_body.data, std::string(1000, 'v'));
  EXPECT_TRUE(obs.response_body.truncated);
  EXPECT_EQ(obs.body_bytes_received, 100000u);
}

TEST(HttpRequest, MaxDownloadStopsWithoutFailure) {
  HttpServer server;
  HttpOptions options;
  options.max_body = 100;
  options.max_download = 20000;
  auto obs = get(local(server.port(), "/bytes/5000000"), options);
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.status_code, 200);
  EXPECT_TRUE(obs.response_body.truncated);
  EXPECT_EQ(obs.response_body.data.size(), 100u);
  EXPECT_GE(obs.body_bytes_received, 20000u);
  EXPECT_LT(obs.body_bytes_received, 5000000u);
}

TEST(HttpRequest, DownloadWindowStopsWithoutFailureAndTimesTheBody) {
  HttpServer server;
  HttpOptions options;
  options.download_window = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto obs = get(local(server.port(), "/slow"), options);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.status_code, 200);
  EXPECT_TRUE(obs.response_body.truncated);
  EXPECT_GT(obs.download_seconds, 0.2);
  EXPECT_LT(obs.download_seconds, 1.5);
  EXPECT_GT(obs.body_bytes_received, 0u);
  EXPECT_LT(obs.body_bytes_received, 200000u);  // the full body takes 4 s
  EXPECT_LT(elapsed, 2s);
}

TEST(HttpRequest, DownloadWindowEndsAStalledBodyWithoutFailure) {
  HttpServer server;
  HttpOptions options;
  options.download_window = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto obs = get(local(server.port(), "/stall"), options);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_TRUE(obs.response_body.truncated);
  EXPECT_EQ(obs.body_bytes_received, 100u);
  EXPECT_LT(elapsed, 2500ms);  // curl checks progress about once a second
}

TEST(HttpRequest, StalledBodyWithoutWindowIsTimeout) {
  HttpServer server;
  StepClock clock;
  HttpOptions options;
  options.url = local(server.port(), "/stall");
  options.timeout = 500ms;
  auto obs = http_request(options, {&clock, 1});
  EXPECT_EQ(failure_of(obs), "generic_timeout_error");
  EXPECT_EQ(obs.status_code, 200);
  EXPECT_EQ(obs.body_bytes_received, 100u);
}

TEST(HttpRequest, TimeoutMidBodyRecordsThatItWasStillFlowing) {
  HttpServer server;
  StepClock clock;
  HttpOptions options;
  options.url = local(server.port(), "/slow");  // 1000 bytes every 20 ms
  options.timeout = 600ms;
  auto obs = http_request(options, {&clock, 1});
  EXPECT_EQ(failure_of(obs), "generic_timeout_error");
  EXPECT_GT(obs.body_bytes_received, 5000u);
  EXPECT_GT(obs.download_seconds, 0.2);
  EXPECT_GE(obs.body_stall_seconds, 0);
  EXPECT_LT(obs.body_stall_seconds, 0.2);
  EXPECT_EQ(obs.download_stopped, "");
}

TEST(HttpRequest, StalledBodyRecordsHowLongItStalled) {
  HttpServer server;
  StepClock clock;
  HttpOptions options;
  options.url = local(server.port(), "/stall");
  options.timeout = 600ms;
  auto obs = http_request(options, {&clock, 1});
  EXPECT_EQ(failure_of(obs), "generic_timeout_error");
  EXPECT_GT(obs.body_stall_seconds, 0.4);
}

TEST(HttpRequest, WindowAndSizeSayWhyTheDownloadStopped) {
  HttpServer server;
  HttpOptions options;
  options.download_window = 300ms;
  EXPECT_EQ(get(local(server.port(), "/slow"), options).download_stopped, "window");
  HttpOptions sized;
  sized.max_download = 20000;
  EXPECT_EQ(get(local(server.port(), "/bytes/5000000"), sized).download_stopped, "size");
  EXPECT_EQ(get(local(server.port(), "/hello"), HttpOptions{}).download_stopped, "");
}

TEST(HttpRequest, PostDeliversTheBody) {
  HttpServer server;
  HttpOptions options;
  options.method = "POST";
  options.body = HttpServer::kExpectedPostBody;
  auto obs = get(local(server.port(), "/post"), options);
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.status_code, 200);  // the server answers 400 to any other body
  EXPECT_EQ(obs.response_body.data, std::string("got ") + HttpServer::kExpectedPostBody);
  EXPECT_EQ(obs.method, "POST");
  EXPECT_EQ(obs.request_body.data, HttpServer::kExpectedPostBody);
  EXPECT_EQ(header(obs.request_headers, "Content-Length"),
            std::to_string(std::string(HttpServer::kExpectedPostBody).size()));
}

TEST(HttpRequest, PinsToAnIpv6Address) {
  HttpServer server(nullptr, "::1");
  HttpOptions options;
  options.pin_ip = "::1";
  auto obs = get("http://good.test:" + std::to_string(server.port()) + "/hello", options);
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.status_code, 200);
  EXPECT_EQ(obs.address, "[::1]:" + std::to_string(server.port()));
}

TEST(HttpRequest, PinsAnIpv6LiteralUrlToAnotherAddress) {
  HttpServer server(nullptr, "::1");
  ClosedPort closed;
  HttpOptions options;
  options.pin_ip = "::1";
  options.pin_port = server.port();
  // The URL's own address is closed; only the pin reaches the server.
  auto obs = get("http://[::1]:" + std::to_string(closed.port()) + "/hello", options);
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.status_code, 200);
}

TEST(HttpRequest, RefusedPortIsConnectionRefused) {
  ClosedPort closed;
  auto obs = get(local(closed.port(), "/"));
  EXPECT_EQ(failure_of(obs), "connection_refused");
  EXPECT_FALSE(obs.status_code.has_value());
}

TEST(HttpRequest, EmptyReplyIsEof) {
  RawTcpServer server(RawTcpServer::Behaviour::kCloseAfterClientHello);
  auto obs = get(local(server.port(), "/"));
  EXPECT_EQ(failure_of(obs), "eof_error");
}

TEST(HttpRequest, ResetAfterRequestIsConnectionReset) {
  RawTcpServer server(RawTcpServer::Behaviour::kResetAfterClientHello);
  auto obs = get(local(server.port(), "/"));
  EXPECT_EQ(failure_of(obs), "connection_reset");
}

// HTTPS to the name good.test, pinned to 127.0.0.1: no DNS is involved.
HttpOptions pinned_https(TlsTrust trust) {
  HttpOptions options;
  options.pin_ip = "127.0.0.1";
  options.trust = std::move(trust);
  return options;
}

std::string good_test_url(int port, const std::string& path) {
  return "https://good.test:" + std::to_string(port) + path;
}

TEST(HttpRequest, HttpsToPinnedIpVerifiesWithCaBundle) {
  HttpServer server(&test_pki().good_leaf);
  auto obs = get(good_test_url(server.port(), "/hello"), pinned_https(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.status_code, 200);
  EXPECT_EQ(obs.address, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(obs.alpn, "http/1.1");
  EXPECT_EQ(header(obs.request_headers, "Host"), "good.test:" + std::to_string(server.port()));
  EXPECT_EQ(obs.response_body.data, "hello vantage");
}

TEST(HttpRequest, HttpsVerifiesWithPinnedPemAndSystemStore) {
  HttpServer server(&test_pki().good_leaf);
  TlsTrust trust;  // system store on, plus the pinned test root
  trust.pinned_pem = test_pki().root.cert_pem;
  auto obs = get(good_test_url(server.port(), "/hello"), pinned_https(trust));
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.status_code, 200);
}

TEST(HttpRequest, HttpsPinnedPortOverridesTheUrlsPort) {
  HttpServer server(&test_pki().good_leaf);
  HttpOptions options = pinned_https(bundle_trust());
  options.pin_port = server.port();
  auto obs = get("https://good.test/hello", options);
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.status_code, 200);
  EXPECT_EQ(obs.address, "127.0.0.1:" + std::to_string(server.port()));
}

TEST(HttpRequest, HttpsUnknownAuthority) {
  HttpServer server(&test_pki().untrusted_leaf);
  auto obs = get(good_test_url(server.port(), "/hello"), pinned_https(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "ssl_unknown_authority");
  EXPECT_FALSE(obs.status_code.has_value());
}

TEST(HttpRequest, HttpsWrongNameIsInvalidHostname) {
  HttpServer server(&test_pki().other_name_leaf);
  auto obs = get(good_test_url(server.port(), "/hello"), pinned_https(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "ssl_invalid_hostname");
}

TEST(HttpRequest, HttpsExpiredIsInvalidCertificate) {
  HttpServer server(&test_pki().expired_leaf);
  auto obs = get(good_test_url(server.port(), "/hello"), pinned_https(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "ssl_invalid_certificate");
}

TEST(HttpRequest, HttpsWithoutVerificationSucceeds) {
  HttpServer server(&test_pki().untrusted_leaf);
  TlsTrust trust;
  trust.verify = false;
  auto obs = get(good_test_url(server.port(), "/hello"), pinned_https(trust));
  EXPECT_EQ(failure_of(obs), "");
  EXPECT_EQ(obs.status_code, 200);
}

TEST(HttpRequest, HttpsResetDuringHandshakeIsConnectionReset) {
  RawTcpServer server(RawTcpServer::Behaviour::kResetAfterClientHello);
  auto obs = get(good_test_url(server.port(), "/"), pinned_https(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "connection_reset");
}

TEST(HttpRequest, HttpsCloseDuringHandshakeIsEof) {
  RawTcpServer server(RawTcpServer::Behaviour::kCloseAfterClientHello);
  auto obs = get(good_test_url(server.port(), "/"), pinned_https(bundle_trust()));
  EXPECT_EQ(failure_of(obs), "eof_error");
}

TEST(HttpRequest, HttpsSilentServerIsTimeout) {
  RawTcpServer server(RawTcpServer::Behaviour::kHold);
  StepClock clock;
  HttpOptions options = pinned_https(bundle_trust());
  options.url = good_test_url(server.port(), "/");
  options.timeout = 400ms;
  auto start = std::chrono::steady_clock::now();
  auto obs = http_request(options, {&clock, 1});
  EXPECT_EQ(failure_of(obs), "generic_timeout_error");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
}

TEST(HttpRequest, ConcurrentRequestsFromManyThreads) {
  HttpServer server(&test_pki().good_leaf);
  std::vector<std::thread> threads;
  std::vector<format::HttpObservation> results(8);
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = get(good_test_url(server.port(), "/hello"), pinned_https(bundle_trust()));
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& obs : results) {
    EXPECT_EQ(failure_of(obs), "");
    EXPECT_EQ(obs.status_code, 200);
  }
}

}  // namespace
}  // namespace vantage::net
