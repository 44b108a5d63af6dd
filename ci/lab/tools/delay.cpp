// delay.cpp — `lab_nfq delay`: adds a fixed latency to every queued packet
// (this kernel has no sch_netem), preserving order. Logs a summary line per
// second with traffic (one line per packet only with --log-each).
//
// Never drops or reorders a packet; if the kernel queue overflows it
// fails open (the excess goes undelayed), it never stalls.
#include "modes.h"
#include "nfq_queue.h"

namespace lab {

int RunDelay(const DelayOptions& options) {
  SetLogMode("delay");
  std::string error;
  auto queue = PacketQueue::Open(QueueOptions{options.queue, 0xffff, options.queue_max_length}, &error);
  if (!queue) {
    Log(error);
    return 1;
  }
  uint64_t held_this_second = 0;
  uint64_t released_this_second = 0;
  Clock::duration max_lateness{0};  // time held beyond the requested delay
  Clock::duration sum_lateness{0};
  size_t max_backlog = 0;

  queue->set_on_release([&](uint32_t id, Clock::duration held) {
    ++released_this_second;
    const auto lateness = held - options.delay;
    if (lateness > max_lateness) max_lateness = lateness;
    sum_lateness += lateness;
    if (options.log_each_packet) {
      Log("release packet " + std::to_string(id) + " after " +
          std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(held).count()) + " us");
    }
  });
  queue->set_on_tick([&] {
    if (held_this_second == 0 && released_this_second == 0) return;
    using std::chrono::microseconds;
    const auto mean = released_this_second == 0 ? 0 :
        std::chrono::duration_cast<microseconds>(sum_lateness).count() / static_cast<int64_t>(released_this_second);
    Log("held " + std::to_string(held_this_second) + ", released " + std::to_string(released_this_second) +
        " packets; lateness beyond " + std::to_string(options.delay.count()) + " ms: mean " +
        std::to_string(mean) + " us, max " +
        std::to_string(std::chrono::duration_cast<microseconds>(max_lateness).count()) +
        " us; max backlog " + std::to_string(max_backlog));
    held_this_second = released_this_second = 0;
    max_lateness = sum_lateness = Clock::duration::zero();
    max_backlog = 0;
  });
  Log("queue " + std::to_string(options.queue) + ": holding every packet " +
      std::to_string(options.delay.count()) + " ms, at most " + std::to_string(options.queue_max_length) +
      " at a time (the excess passes undelayed)");

  return queue->Run([&](const PacketQueue::Packet& packet) {
    ++held_this_second;
    queue->HoldUntil(packet.id, Clock::now() + options.delay);
    max_backlog = std::max(max_backlog, queue->held_count());
    if (options.log_each_packet) {
      std::string what = "hold packet " + std::to_string(packet.id);
      if (auto ip = ParseIp(packet.data)) {
        what += " " + FormatAddress(ip->src) + " -> " + FormatAddress(ip->dst) + " proto " +
                std::to_string(ip->protocol);
      }
      Log(what);
    }
  });
}

}  // namespace lab
