// nfq_queue.h — one bound NFQUEUE queue and the single-threaded loop that
// serves it: hand each packet to a handler, and release packets the handler
// chose to hold once their deadline passes.
//
// Every packet handed to the handler must get exactly one of Accept, Drop or
// HoldUntil before the handler returns; a packet without a verdict would sit
// in the kernel queue until the program exits. Never blocks except in the
// poll that waits for the next packet or deadline; never throws.
#ifndef VANTAGE_CI_LAB_TOOLS_NFQ_QUEUE_H_
#define VANTAGE_CI_LAB_TOOLS_NFQ_QUEUE_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>

struct nfq_handle;
struct nfq_q_handle;
struct nfgenmsg;
struct nfq_data;

namespace lab {

using Clock = std::chrono::steady_clock;

// Writes "HH:MM:SS.mmm lab_nfq <mode>: <message>" to stderr.
void Log(const std::string& message);
void SetLogMode(const std::string& mode);

struct QueueOptions {
  uint16_t queue_number = 0;
  uint32_t copy_bytes = 0xffff;  // bytes of each packet copied to userspace
  uint32_t max_length = 10000;   // packets the kernel keeps waiting for a verdict
};

class PacketQueue {
 public:
  struct Packet {
    uint32_t id;
    std::span<const uint8_t> data;  // the IP packet, possibly cut to copy_bytes
  };
  using Handler = std::function<void(const Packet&)>;

  // Binds the queue (fail-open, so a full queue accepts instead of dropping
  // or stalling). nullptr and *error set when it cannot, e.g. not root or
  // another program holds the queue.
  static std::unique_ptr<PacketQueue> Open(const QueueOptions& options, std::string* error);
  ~PacketQueue();
  PacketQueue(const PacketQueue&) = delete;
  PacketQueue& operator=(const PacketQueue&) = delete;

  void Accept(uint32_t id);
  void Drop(uint32_t id);
  // Accepts the packet at `release`. Packets are released in the order they
  // were held: a deadline earlier than the previous one waits for it.
  void HoldUntil(uint32_t id, Clock::time_point release);

  // Called with (id, how long it was actually held) when a held packet goes.
  void set_on_release(std::function<void(uint32_t, Clock::duration)> f) { on_release_ = std::move(f); }
  // Called about once a second, for housekeeping and statistics.
  void set_on_tick(std::function<void()> f) { on_tick_ = std::move(f); }

  size_t held_count() const { return held_.size(); }

  // Serves packets until SIGTERM or SIGINT, then accepts every held packet
  // (so stopping the lab never strands traffic). Returns the exit status.
  int Run(const Handler& handler);

 private:
  PacketQueue() = default;
  static int OnPacket(nfq_q_handle*, ::nfgenmsg*, ::nfq_data*, void* self);
  void ReleaseDue(Clock::time_point now);

  struct Held {
    Clock::time_point release;
    Clock::time_point held_at;
    uint32_t id;
  };

  nfq_handle* handle_ = nullptr;
  nfq_q_handle* queue_ = nullptr;
  int fd_ = -1;
  const Handler* handler_ = nullptr;
  std::deque<Held> held_;
  std::function<void(uint32_t, Clock::duration)> on_release_;
  std::function<void()> on_tick_;
};

// Blocks SIGTERM/SIGINT so that they are only delivered inside Run's poll.
// Call once at startup, before any other thread could exist.
void InstallStopSignals();

}  // namespace lab

#endif  // VANTAGE_CI_LAB_TOOLS_NFQ_QUEUE_H_
