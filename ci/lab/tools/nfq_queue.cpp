// nfq_queue.cpp — NFQUEUE binding (libnetfilter_queue) and the poll loop
// with the FIFO of held packets.
#include "nfq_queue.h"

#include <arpa/inet.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

namespace lab {
namespace {

volatile sig_atomic_t g_stop_signal = 0;
sigset_t g_unblocked_mask;  // the mask in effect before InstallStopSignals
std::string g_log_mode = "lab_nfq";

void OnStopSignal(int signal_number) { g_stop_signal = signal_number; }

}  // namespace

void SetLogMode(const std::string& mode) { g_log_mode = "lab_nfq " + mode; }

void Log(const std::string& message) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm local{};
  localtime_r(&now.tv_sec, &local);
  // One fprintf per line so that lines from parallel programs do not interleave.
  std::fprintf(stderr, "%02d:%02d:%02d.%03ld %s: %s\n", local.tm_hour, local.tm_min, local.tm_sec,
               now.tv_nsec / 1000000, g_log_mode.c_str(), message.c_str());
}

void InstallStopSignals() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, &g_unblocked_mask);
  sigdelset(&g_unblocked_mask, SIGTERM);
  sigdelset(&g_unblocked_mask, SIGINT);
}

std::unique_ptr<PacketQueue> PacketQueue::Open(const QueueOptions& options, std::string* error) {
  std::unique_ptr<PacketQueue> q(new PacketQueue());
  auto fail = [&](const std::string& what) {
    *error = what + ": " + std::strerror(errno);
    return nullptr;
  };
  q->handle_ = nfq_open();
  if (q->handle_ == nullptr) {
    return fail("cannot open the netfilter queue netlink socket (root/CAP_NET_ADMIN needed)");
  }
  q->queue_ = nfq_create_queue(q->handle_, options.queue_number, &PacketQueue::OnPacket, q.get());
  if (q->queue_ == nullptr) {
    return fail("cannot bind NFQUEUE " + std::to_string(options.queue_number) +
                " (is another program bound to it? are we root?)");
  }
  if (nfq_set_mode(q->queue_, NFQNL_COPY_PACKET, options.copy_bytes) < 0) {
    return fail("cannot set the copy mode of NFQUEUE " + std::to_string(options.queue_number));
  }
  if (nfq_set_queue_maxlen(q->queue_, options.max_length) < 0) {
    return fail("cannot set the length of NFQUEUE " + std::to_string(options.queue_number));
  }
  // Fail open: when the kernel queue is full or our socket buffer overflows,
  // the kernel accepts the packet instead of dropping it, so a slow helper
  // degrades the censorship rather than inventing packet loss or a deadlock.
  if (nfq_set_queue_flags(q->queue_, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN) < 0) {
    return fail("cannot make NFQUEUE " + std::to_string(options.queue_number) + " fail-open");
  }
  q->fd_ = nfq_fd(q->handle_);
  nfnl_rcvbufsiz(nfq_nfnlh(q->handle_), 16 * 1024 * 1024);
  // An overflow is handled by fail-open; do not turn it into recv errors.
  int on = 1;
  setsockopt(q->fd_, SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof on);
  return q;
}

PacketQueue::~PacketQueue() {
  if (queue_ != nullptr) nfq_destroy_queue(queue_);
  if (handle_ != nullptr) nfq_close(handle_);
}

void PacketQueue::Accept(uint32_t id) { nfq_set_verdict(queue_, id, NF_ACCEPT, 0, nullptr); }
void PacketQueue::Drop(uint32_t id) { nfq_set_verdict(queue_, id, NF_DROP, 0, nullptr); }

void PacketQueue::HoldUntil(uint32_t id, Clock::time_point release) {
  if (!held_.empty() && release < held_.back().release) release = held_.back().release;
  held_.push_back(Held{release, Clock::now(), id});
}

int PacketQueue::OnPacket(nfq_q_handle*, ::nfgenmsg*, ::nfq_data* nfa, void* self_ptr) {
  auto* self = static_cast<PacketQueue*>(self_ptr);
  const nfqnl_msg_packet_hdr* header = nfq_get_msg_packet_hdr(nfa);
  if (header == nullptr) return 0;
  const uint32_t id = ntohl(header->packet_id);
  unsigned char* data = nullptr;
  const int length = nfq_get_payload(nfa, &data);
  Packet packet{id, length > 0 ? std::span<const uint8_t>(data, static_cast<size_t>(length))
                               : std::span<const uint8_t>()};
  (*self->handler_)(packet);
  return 0;
}

void PacketQueue::ReleaseDue(Clock::time_point now) {
  while (!held_.empty() && held_.front().release <= now) {
    const Held h = held_.front();
    held_.pop_front();
    Accept(h.id);
    if (on_release_) on_release_(h.id, now - h.held_at);
  }
}

int PacketQueue::Run(const Handler& handler) {
  handler_ = &handler;
  std::vector<char> buffer(0x10000 + 4096);
  auto next_tick = Clock::now() + std::chrono::seconds(1);
  while (g_stop_signal == 0) {
    auto now = Clock::now();
    auto wake = next_tick;
    if (!held_.empty() && held_.front().release < wake) wake = held_.front().release;
    const auto wait = std::max(Clock::duration::zero(), wake - now);
    const auto wait_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    timespec timeout{static_cast<time_t>(wait_ns / 1000000000), static_cast<long>(wait_ns % 1000000000)};
    pollfd pfd{fd_, POLLIN, 0};
    const int ready = ppoll(&pfd, 1, &timeout, &g_unblocked_mask);
    if (ready < 0 && errno != EINTR) {
      Log(std::string("poll failed: ") + std::strerror(errno));
      return 1;
    }
    if (ready > 0) {
      // Drain what is queued, but come back to the deadlines regularly so a
      // flood of new packets cannot delay the release of held ones.
      for (int i = 0; i < 256; ++i) {
        const ssize_t n = recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n < 0) {
          if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ENOBUFS) {
            Log(std::string("receiving from the queue failed: ") + std::strerror(errno));
            return 1;
          }
          break;
        }
        nfq_handle_packet(handle_, buffer.data(), static_cast<int>(n));
        if (!held_.empty() && held_.front().release <= Clock::now()) ReleaseDue(Clock::now());
      }
    }
    now = Clock::now();
    ReleaseDue(now);
    if (now >= next_tick) {
      next_tick = now + std::chrono::seconds(1);
      if (on_tick_) on_tick_();
    }
  }
  Log(std::string("stopping on ") + (g_stop_signal == SIGINT ? "SIGINT" : "SIGTERM") +
      ", accepting " + std::to_string(held_.size()) + " held packet(s)");
  while (!held_.empty()) {
    Accept(held_.front().id);
    held_.pop_front();
  }
  handler_ = nullptr;
  return 0;
}

}  // namespace lab
