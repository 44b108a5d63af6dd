// Concurrent control questions. See control_queue.h for the contract.
#include "probe/engine/control_queue.h"

#include <arpa/inet.h>

#include <algorithm>
#include <system_error>

#include "probe/net/dns_lookup.h"
#include "probe/net/step_clock.h"
#include "probe/net/tcp_connect.h"
#include "reports/format/vocabulary.h"

namespace vantage::engine {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// How long a worker holding a TCP or TLS question waits for its siblings:
// connects that time out together expire within a few milliseconds.
constexpr milliseconds kGatherWindow{30};
// A helper request lists at most this many addresses (the helper's limit).
constexpr std::size_t kMaxAddresses = 64;

// The host and port of an http(s) URL; false when it has none.
bool url_host_port(const std::string& url, std::string& host, int& port) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const std::string scheme = url.substr(0, scheme_end);
  port = scheme == "https" ? 443 : 80;
  const auto start = scheme_end + 3;
  const std::string authority = url.substr(start, url.find_first_of("/?#", start) - start);
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return false;
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port_text = authority.substr(close + 2);
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), ::isdigit)) return false;
    port = std::stoi(port_text);
  }
  return !host.empty() && port > 0 && port <= 65535;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Whether two questions can share one helper request.
bool mergeable(const json& a, const json& b) {
  const std::string chain = a.value("x_chain", "");
  if (chain != b.value("x_chain", "")) return false;
  if (chain == "tcp") return true;
  if (chain == "tls") return a.value("http_request", "") == b.value("http_request", "");
  return false;
}

// The part of a shared answer that concerns `request`'s own addresses.
json answer_for(const json& request, const json& answer) {
  if (!answer.is_object() || answer.contains("failure")) return answer;
  json out = answer;
  const auto& mine = request.value("tcp_connect", json::array());
  for (const char* key : {"tcp_connect", "tls_handshake"}) {
    if (!answer.contains(key) || !answer[key].is_object()) continue;
    json kept = json::object();
    for (const auto& a : mine)
      if (a.is_string() && answer[key].contains(a.get<std::string>())) kept[a.get<std::string>()] = answer[key][a.get<std::string>()];
    out[key] = kept;
  }
  return out;
}

}  // namespace

ControlQueue::ControlQueue(Ask ask, std::string url, Remaining remaining, milliseconds connect_timeout,
                           int max_requests)
    : ask_(std::move(ask)), url_(std::move(url)), remaining_(std::move(remaining)),
      max_requests_(std::max(1, max_requests)) {
  try {
    reach_thread_ = std::thread([this, connect_timeout] { check_reach(connect_timeout); });
  } catch (const std::system_error&) {
    check_reach(connect_timeout);
  }
}

ControlQueue::~ControlQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (reach_thread_.joinable()) reach_thread_.join();
  for (auto& t : threads_) t.join();
}

void ControlQueue::check_reach(milliseconds connect_timeout) {
  std::string failure;
  try {
    std::string host;
    int port = 0;
    if (!url_host_port(url_, host, port)) {
      failure = "invalid control URL";
    } else {
      net::StepClock clock;
      std::string ip = host;
      if (!is_ip_literal(host)) {
        auto dns = net::lookup_getaddrinfo(host, std::min(connect_timeout, remaining_()), {&clock, 0});
        ip.clear();
        if (dns.failure) failure = *dns.failure;
        for (const auto& a : dns.answers)
          if (ip.empty()) ip = !a.ipv4.empty() ? a.ipv4 : a.ipv6;
        if (ip.empty() && failure.empty()) failure = "dns_no_answer";
      }
      if (!ip.empty()) {
        auto tcp = net::tcp_connect(ip, port, std::min(connect_timeout, remaining_()), {&clock, 0});
        if (tcp.observation.failure) failure = *tcp.observation.failure;
      }
    }
  } catch (const std::exception& e) {
    failure = std::string("unknown_failure: ") + e.what();
  }
  std::lock_guard lock(mu_);
  if (failure.empty()) {
    reach_ = Reach::Reached;
  } else {
    reach_ = Reach::Unreachable;
    unreachable_ = failure;
    answer_all_queued({{"failure", "control_unreachable: " + failure}});
  }
  changed_.notify_all();
}

void ControlQueue::answer_all_queued(const json& answer) {
  for (std::size_t id : queue_) {
    questions_[id].answer = answer;
    questions_[id].done = true;
  }
  queue_.clear();
}

void ControlQueue::maybe_spawn() {
  if (queue_.empty() || idle_ + starting_ > 0 || static_cast<int>(threads_.size()) >= max_requests_) return;
  try {
    threads_.emplace_back([this] { worker(); });
    ++starting_;
  } catch (const std::system_error&) {
    // No new thread: the existing workers take the questions in turn.
  }
}

std::size_t ControlQueue::put(const json& request) {
  std::lock_guard lock(mu_);
  const std::string key = request.dump();
  if (auto it = by_request_.find(key); it != by_request_.end()) return it->second;
  const std::size_t id = questions_.size();
  Question q;
  q.request = request;
  if (mergeable(request, request)) q.not_before = std::chrono::steady_clock::now() + kGatherWindow;
  questions_.push_back(std::move(q));
  by_request_[key] = id;
  if (reach_ == Reach::Unreachable) {
    questions_[id].answer = {{"failure", "control_unreachable: " + unreachable_}};
    questions_[id].done = true;
  } else {
    queue_.push_back(id);
    maybe_spawn();
  }
  changed_.notify_all();
  return id;
}

void ControlQueue::worker() {
  std::unique_lock lock(mu_);
  --starting_;
  for (;;) {
    ++idle_;
    changed_.wait(lock, [&] { return stopping_ || (reach_ == Reach::Reached && !queue_.empty()); });
    if (stopping_ || queue_.empty() || reach_ != Reach::Reached) {
      --idle_;
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    auto it = std::find_if(queue_.begin(), queue_.end(), [&](std::size_t id) { return questions_[id].not_before <= now; });
    if (it == queue_.end()) {
      auto next = questions_[queue_.front()].not_before;
      for (std::size_t id : queue_) next = std::min(next, questions_[id].not_before);
      changed_.wait_until(lock, next);
      --idle_;
      continue;
    }
    --idle_;
    const std::size_t first = *it;
    queue_.erase(it);
    json request = questions_[first].request;
    std::vector<std::size_t> batch{first};
    // The siblings failing at this very moment share the request.
    if (mergeable(request, request))
      for (auto o = queue_.begin(); o != queue_.end();) {
        const json& other = questions_[*o].request;
        if (request["tcp_connect"].size() < kMaxAddresses && mergeable(request, other)) {
          for (const auto& a : other.value("tcp_connect", json::array())) request["tcp_connect"].push_back(a);
          batch.push_back(*o);
          o = queue_.erase(o);
        } else {
          ++o;
        }
      }
    maybe_spawn();
    lock.unlock();
    json answer;
    try {
      answer = ask_(request, remaining_());
    } catch (const std::exception& e) {
      answer = {{"failure", std::string("unknown_failure: ") + e.what()}};
    }
    lock.lock();
    for (std::size_t id : batch) {
      questions_[id].answer = answer_for(questions_[id].request, answer);
      questions_[id].done = true;
    }
    changed_.notify_all();
  }
}

bool ControlQueue::wait(std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(mu_);
  return changed_.wait_until(lock, until, [&] {
    return std::all_of(questions_.begin(), questions_.end(), [](const Question& q) { return q.done; });
  });
}

json ControlQueue::answer(std::size_t id) const {
  std::lock_guard lock(mu_);
  if (id >= questions_.size() || !questions_[id].done) return {{"failure", vocab::kInterrupted}};
  return questions_[id].answer;
}

std::string ControlQueue::unreachable() const {
  std::lock_guard lock(mu_);
  return unreachable_;
}

json merge_control_answers(const std::vector<json>& answers) {
  json merged = json::object();
  json first_failure;
  bool any = false;
  for (const auto& a : answers) {
    if (!a.is_object()) continue;
    if (a.contains("failure") && a["failure"].is_string()) {
      if (first_failure.is_null()) first_failure = a;
      continue;
    }
    any = true;
    for (auto it = a.begin(); it != a.end(); ++it) {
      if ((it.key() == "tcp_connect" || it.key() == "tls_handshake") && it.value().is_object()) {
        if (!merged.contains(it.key())) merged[it.key()] = json::object();
        for (auto e = it.value().begin(); e != it.value().end(); ++e) merged[it.key()][e.key()] = e.value();
      } else if (!merged.contains(it.key())) {
        merged[it.key()] = it.value();
      }
    }
  }
  if (any) return merged;
  return first_failure.is_null() ? json({{"failure", vocab::kInterrupted}}) : first_failure;
}

}  // namespace vantage::engine
