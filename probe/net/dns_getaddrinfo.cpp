// lookup_getaddrinfo and SystemLookups: the system resolver, as the
// volunteer's apps see it.
//
// getaddrinfo has no timeout of its own and cannot be cancelled, so each
// lookup runs in a detached helper thread that owns a shared_ptr to the
// lookups' state; the one waiter reports generic_timeout_error for a lookup
// whose timeout passed. A helper may finish long after the waiter has gone:
// it only ever touches the shared state, never the caller's stack. A wait
// never lasts longer than the earliest pending timeout (plus thread
// start-up).
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
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

// What getaddrinfo said, as an observation (t0 and t stamped by the caller).
format::DnsObservation lookup_now(const std::string& hostname) {
  format::DnsObservation obs;
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  errno = 0;
  const int eai = getaddrinfo(hostname.c_str(), nullptr, &hints, &result);
  const int saved_errno = errno;
  obs.getaddrinfo_error = eai;
  if (eai != 0) {
    obs.failure = failure_from_getaddrinfo(eai, saved_errno);
    return obs;
  }
  obs.answers = answers_from(result);
  freeaddrinfo(result);
  if (obs.answers.empty()) obs.failure = "dns_no_answer";
  return obs;
}

}  // namespace

// One lookup's slot. A lookup's thread holds the Shared (by shared_ptr),
// never the SystemLookups or its caller's stack.
struct SystemLookups::Shared {
  struct Slot {
    std::size_t tag = 0;
    format::DnsObservation obs;  // stamped t0, engine, name, transaction
    std::chrono::steady_clock::time_point deadline;
    StepClock clock;
    bool done = false;
    bool collected = false;
  };
  std::mutex mutex;
  std::condition_variable finished;
  std::deque<Slot> slots;  // by start order (a deque: a Slot never moves)
  std::deque<std::size_t> done_order;

  std::optional<Result> pop_finished();
};

SystemLookups::SystemLookups(LookupFn lookup) : shared_(std::make_shared<Shared>()), lookup_(std::move(lookup)) {}
SystemLookups::~SystemLookups() = default;

void SystemLookups::start(std::size_t tag, const std::string& hostname, std::chrono::milliseconds timeout,
                          const StepContext& ctx) {
  format::DnsObservation obs;
  obs.engine = "getaddrinfo";
  obs.hostname = hostname;
  obs.query_type = "ANY";
  obs.transaction_id = ctx.transaction_id;
  obs.t0 = ctx.clock->now();
  std::size_t index;
  {
    std::lock_guard lock(shared_->mutex);
    index = shared_->slots.size();
    shared_->slots.push_back({tag, obs, std::chrono::steady_clock::now() + timeout, *ctx.clock, false, false});
  }
  // The thread works on copies (the name, the clock): the caller's may be
  // gone by the time it finishes.
  auto run = [shared = shared_, index, hostname, timeout, clock = *ctx.clock, tx = ctx.transaction_id,
              lookup = lookup_] {
    format::DnsObservation got = lookup ? lookup(hostname, timeout, StepContext{&clock, tx}) : lookup_now(hostname);
    const double t = clock.now();
    std::lock_guard lock(shared->mutex);
    Shared::Slot& slot = shared->slots[index];
    if (slot.collected) return;  // timed out already: nobody is waiting
    slot.done = true;
    slot.obs.t = t;
    slot.obs.failure = std::move(got.failure);
    slot.obs.getaddrinfo_error = got.getaddrinfo_error;
    slot.obs.answers = std::move(got.answers);
    slot.obs.tags.insert(slot.obs.tags.end(), got.tags.begin(), got.tags.end());
    shared->done_order.push_back(index);
    shared->finished.notify_all();
  };
  try {
    std::thread(std::move(run)).detach();
  } catch (const std::system_error& error) {
    std::lock_guard lock(shared_->mutex);
    Shared::Slot& slot = shared_->slots[index];
    slot.done = true;
    slot.obs.failure = failure_from_errno(error.code().value());
    slot.obs.t = ctx.clock->now();
    shared_->done_order.push_back(index);
  }
}

// The first finished lookup not yet collected (the caller holds the lock).
std::optional<SystemLookups::Result> SystemLookups::Shared::pop_finished() {
  if (done_order.empty()) return std::nullopt;
  Slot& slot = slots[done_order.front()];
  done_order.pop_front();
  slot.collected = true;
  return Result{slot.tag, std::move(slot.obs)};
}

std::optional<SystemLookups::Result> SystemLookups::next_finished() {
  std::lock_guard lock(shared_->mutex);
  return shared_->pop_finished();
}

std::optional<SystemLookups::Result> SystemLookups::next() {
  std::unique_lock lock(shared_->mutex);
  for (;;) {
    if (auto finished = shared_->pop_finished()) return finished;
    // The earliest deadline among the lookups still running.
    Shared::Slot* first = nullptr;
    for (auto& s : shared_->slots)
      if (!s.collected && !s.done && (!first || s.deadline < first->deadline)) first = &s;
    if (!first) return std::nullopt;
    if (shared_->finished.wait_until(lock, first->deadline) == std::cv_status::timeout &&
        shared_->done_order.empty() && !first->done) {
      // Its thread may still finish; it then finds the slot collected.
      first->collected = true;
      format::DnsObservation obs = std::move(first->obs);
      obs.failure = "generic_timeout_error";
      obs.t = first->clock.now();
      return Result{first->tag, std::move(obs)};
    }
  }
}

format::DnsObservation lookup_getaddrinfo(const std::string& hostname,
                                          std::chrono::milliseconds timeout,
                                          const StepContext& ctx) {
  SystemLookups one;
  one.start(0, hostname, timeout, ctx);
  return one.next()->observation;
}

}  // namespace vantage::net
