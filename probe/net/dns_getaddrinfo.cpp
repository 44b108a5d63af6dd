// lookup_getaddrinfo: the system resolver, as the volunteer's apps see it.
//
// getaddrinfo has no timeout of its own and cannot be cancelled, so it runs
// in a detached helper thread that owns a shared_ptr to the lookup's state;
// the caller waits at most `timeout` and then reports generic_timeout_error.
// The helper may finish long after the caller has returned: it only ever
// touches the shared state, never the caller's stack. Never blocks longer
// than `timeout` (plus thread start-up).
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "probe/net/dns_lookup.h"
#include "probe/net/failure.h"

namespace vantage::net {

std::string tune_system_resolver_retransmission(const std::string& resolv_conf) {
  if (std::getenv("RES_OPTIONS") != nullptr) return "";
  std::ifstream in(resolv_conf);
  std::string line;
  while (std::getline(in, line)) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line.compare(start, 7, "options") != 0) continue;
    if (line.find("timeout:") != std::string::npos || line.find("attempts:") != std::string::npos) return "";
  }
  const std::string options = "timeout:2 attempts:4";
  return ::setenv("RES_OPTIONS", options.c_str(), 0) == 0 ? options : "";
}

namespace {

struct LookupState {
  std::mutex mutex;
  std::condition_variable done_signal;
  bool done = false;
  int eai = 0;
  int saved_errno = 0;
  std::vector<format::DnsAnswer> answers;
};

// Distinct addresses in the order getaddrinfo returned them.
std::vector<format::DnsAnswer> answers_from(const addrinfo* list) {
  std::vector<format::DnsAnswer> answers;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    format::DnsAnswer answer;
    char text[INET6_ADDRSTRLEN] = {};
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
      answer.answer_type = "A";
      answer.ipv4 = text;
    } else if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
      answer.answer_type = "AAAA";
      answer.ipv6 = text;
    } else {
      continue;
    }
    bool seen = false;
    for (const auto& previous : answers) {
      seen = seen || (previous.ipv4 == answer.ipv4 && previous.ipv6 == answer.ipv6);
    }
    // getaddrinfo does not expose TTLs; dnst's ttl stays 0.
    if (!seen) answers.push_back(std::move(answer));
  }
  return answers;
}

void run_lookup(const std::string& hostname, const std::shared_ptr<LookupState>& state) {
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  errno = 0;
  const int eai = getaddrinfo(hostname.c_str(), nullptr, &hints, &result);
  const int saved_errno = errno;
  std::vector<format::DnsAnswer> answers;
  if (eai == 0) {
    answers = answers_from(result);
    freeaddrinfo(result);
  }
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    state->eai = eai;
    state->saved_errno = saved_errno;
    state->answers = std::move(answers);
    state->done = true;
  }
  state->done_signal.notify_all();
}

}  // namespace

format::DnsObservation lookup_getaddrinfo(const std::string& hostname,
                                          std::chrono::milliseconds timeout,
                                          const StepContext& ctx) {
  format::DnsObservation obs;
  obs.engine = "getaddrinfo";
  obs.hostname = hostname;
  obs.query_type = "ANY";
  obs.transaction_id = ctx.transaction_id;
  obs.t0 = ctx.clock->now();

  auto state = std::make_shared<LookupState>();
  try {
    std::thread(run_lookup, hostname, state).detach();
  } catch (const std::system_error& error) {
    obs.failure = failure_from_errno(error.code().value());
    obs.t = ctx.clock->now();
    return obs;
  }

  std::unique_lock<std::mutex> lock(state->mutex);
  if (!state->done_signal.wait_for(lock, timeout, [&] { return state->done; })) {
    obs.failure = "generic_timeout_error";
    obs.t = ctx.clock->now();
    return obs;
  }
  obs.t = ctx.clock->now();
  obs.getaddrinfo_error = state->eai;
  if (state->eai != 0) {
    obs.failure = failure_from_getaddrinfo(state->eai, state->saved_errno);
  } else if (state->answers.empty()) {
    obs.failure = "dns_no_answer";
  } else {
    obs.answers = std::move(state->answers);
  }
  return obs;
}

}  // namespace vantage::net
