// libcurl failures. See curl_failure.h.
#include "probe/net/curl_failure.h"

#include <openssl/x509_vfy.h>

#include <cerrno>

#include "probe/net/failure.h"
#include "probe/net/tls_handshake.h"

namespace vantage::net {

std::string failure_from_curl(CURL* easy, CURLcode code, const char* error_text) {
  long os_errno = 0;
  curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
  const std::string text = error_text[0] != '\0' ? error_text : curl_easy_strerror(code);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return "generic_timeout_error";
    case CURLE_COULDNT_RESOLVE_HOST:
      return "dns_nxdomain_error";
    case CURLE_GOT_NOTHING:
      return "eof_error";
    case CURLE_COULDNT_CONNECT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      if (os_errno != 0) return failure_from_errno(static_cast<int>(os_errno));
      return "unknown_failure: " + text;
    case CURLE_PEER_FAILED_VERIFICATION: {
      long verify_result = X509_V_OK;
      curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &verify_result);
      // curl checks the host name itself, after OpenSSL accepted the chain;
      // when that check fails the result is OK or the generic code curl
      // stores (X509_V_ERR_UNSPECIFIED in 7.88), not HOSTNAME_MISMATCH.
      if (verify_result == X509_V_OK || verify_result == X509_V_ERR_UNSPECIFIED ||
          verify_result == X509_V_ERR_APPLICATION_VERIFICATION) {
        return "ssl_invalid_hostname";
      }
      return failure_from_verify_result(verify_result);
    }
    case CURLE_SSL_CONNECT_ERROR:
      if (os_errno == ECONNRESET) return "connection_reset";
      // The peer closed without an alert: curl 7.88 says SSL_ERROR_SYSCALL
      // with no errno; other versions report OpenSSL's "unexpected eof".
      if ((os_errno == 0 && text.find("SSL_ERROR_SYSCALL") != std::string::npos) ||
          text.find("unexpected eof") != std::string::npos) {
        return "eof_error";
      }
      return "ssl_failed_handshake";
    default:
      return "unknown_failure: " + text;
  }
}

}  // namespace vantage::net
