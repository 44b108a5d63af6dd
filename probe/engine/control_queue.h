// Asks the control vantage point while the measurement runs, so its answers
// are in by the time the probe's own retries are.
//
// Contract:
//  - questions are asked as soon as they are put (the engine puts one when
//    an endpoint's first attempt fails, and at once for endpoints that are
//    always compared); the same question put twice is asked once;
//  - TCP-only questions put within a few milliseconds of each other (every
//    black-holed connect times out at once) go out as one request listing
//    every address, and so do TLS questions for the same name: the helper
//    measures its addresses concurrently, so a volley of failures costs one
//    helper timeout, not one per wave of the helper's worker threads;
//  - whether the control can be reached at all is checked once, at start,
//    with one TCP connect (connect_timeout) to the control URL's host; while
//    that runs, questions wait; when it fails, every question is answered at
//    once with {"failure": "control_unreachable: <why>"} and unreachable()
//    says why — an unreachable control costs one connect timeout in all,
//    overlapping the measurement;
//  - each request is given the time left before the run's deadline; wait()
//    bounds how long the engine waits for the last answers.
// Never throws out of its threads; a question without an answer by wait()'s
// bound reads {"failure": "interrupted"}.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace vantage::engine {

class ControlQueue {
 public:
  using Ask = std::function<nlohmann::json(const nlohmann::json& request, std::chrono::milliseconds left)>;
  using Remaining = std::function<std::chrono::milliseconds()>;

  // `url`: the control's URL (its host:port is what the reachability check
  // connects to). `max_requests`: requests in flight at most.
  ControlQueue(Ask ask, std::string url, Remaining remaining, std::chrono::milliseconds connect_timeout,
               int max_requests);
  ~ControlQueue();
  ControlQueue(const ControlQueue&) = delete;
  ControlQueue& operator=(const ControlQueue&) = delete;

  // Queues a test-helper request (with "x_chain"); returns its id.
  std::size_t put(const nlohmann::json& request);
  // Waits until every question has its answer (true) or `until` passes.
  bool wait(std::chrono::steady_clock::time_point until);
  nlohmann::json answer(std::size_t id) const;
  // Why the control could not be reached, or "" (reached, or not yet known).
  std::string unreachable() const;

 private:
  enum class Reach { Unknown, Reached, Unreachable };
  struct Question {
    nlohmann::json request;
    nlohmann::json answer;
    bool done = false;
    // TCP and TLS questions wait this long for siblings to share a request.
    std::chrono::steady_clock::time_point not_before;
  };
  void check_reach(std::chrono::milliseconds connect_timeout);
  void worker();
  void answer_all_queued(const nlohmann::json& answer);  // mutex held
  void maybe_spawn();                                    // mutex held

  Ask ask_;
  std::string url_;
  Remaining remaining_;
  int max_requests_;

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Question> questions_;
  std::map<std::string, std::size_t> by_request_;
  std::deque<std::size_t> queue_;
  Reach reach_ = Reach::Unknown;
  std::string unreachable_;
  bool stopping_ = false;
  int idle_ = 0;      // workers waiting for a question
  int starting_ = 0;  // workers created that have not run yet
  std::vector<std::thread> threads_;
  std::thread reach_thread_;
};

// One endpoint's control answer from the answers about its addresses (and
// its name's lookup): tcp_connect and tls_handshake entries are united, the
// other keys taken from the first answer that has them. Only failures in
// → the first failure.
nlohmann::json merge_control_answers(const std::vector<nlohmann::json>& answers);

}  // namespace vantage::engine
