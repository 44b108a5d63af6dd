// sni_drop.cpp — `lab_nfq drop-sni`: drops the TCP segment carrying a
// ClientHello whose SNI is a target name, and every later segment of that
// flow (either direction) for a while, so the client sees its handshake time
// out — the behaviour of Iranian and Kazakh DPI.
//
// Never sends packets (no RSTs: that is a different technique); never
// reassembles a ClientHello split over segments — such a hello passes.
#include <map>
#include <tuple>

#include "modes.h"
#include "nfq_queue.h"
#include "sni.h"

namespace lab {
namespace {

// A TCP flow seen from the client: (client address, client port, server address, server port).
using FlowKey = std::tuple<IpAddress, uint16_t, IpAddress, uint16_t>;

std::string Describe(const FlowKey& key) {
  return FormatAddress(std::get<0>(key)) + ":" + std::to_string(std::get<1>(key)) + " -> " +
         FormatAddress(std::get<2>(key)) + ":" + std::to_string(std::get<3>(key));
}

}  // namespace

int RunDropSni(const DropSniOptions& options) {
  SetLogMode("drop-sni");
  std::string error;
  auto queue = PacketQueue::Open(QueueOptions{options.queue, 0xffff, 10000}, &error);
  if (!queue) {
    Log(error);
    return 1;
  }
  std::map<FlowKey, Clock::time_point> blocked;  // flow -> when to forget it

  queue->set_on_tick([&] {
    const auto now = Clock::now();
    for (auto it = blocked.begin(); it != blocked.end();) {
      if (it->second <= now) {
        Log("forget " + Describe(it->first));
        it = blocked.erase(it);
      } else {
        ++it;
      }
    }
  });
  Log("queue " + std::to_string(options.queue) + ": dropping TLS flows by SNI, flows remembered " +
      std::to_string(options.remember.count()) + " s");

  return queue->Run([&](const PacketQueue::Packet& packet) {
    auto ip = ParseIp(packet.data);
    if (!ip || ip->protocol != kProtoTcp || ip->is_fragment) return queue->Accept(packet.id);
    auto tcp = ParseTcp(ip->transport);
    if (!tcp) return queue->Accept(packet.id);
    const auto now = Clock::now();
    const FlowKey outbound{ip->src, tcp->src_port, ip->dst, tcp->dst_port};
    const FlowKey inbound{ip->dst, tcp->dst_port, ip->src, tcp->src_port};
    for (const FlowKey& key : {outbound, inbound}) {
      auto it = blocked.find(key);
      if (it != blocked.end() && it->second > now) {
        Log("drop " + Describe(outbound) + ": flow blocked earlier (" +
            std::to_string(tcp->payload.size()) + " payload bytes)");
        return queue->Drop(packet.id);
      }
    }
    // Any queued port is inspected (the iptables rule chooses: 443, 853, ...);
    // packets from the server carry no ClientHello and pass.
    if (tcp->payload.empty()) return queue->Accept(packet.id);
    const SniResult sni = ParseClientHelloSni(tcp->payload);
    if (sni.kind != SniResult::Kind::kFound) {
      if (sni.kind != SniResult::Kind::kNotClientHello) {
        Log("pass " + Describe(outbound) + ": " + SniKindName(sni.kind) + ", not inspected further");
      }
      return queue->Accept(packet.id);
    }
    auto target = options.names.Match(sni.name);
    if (!target) {
      Log("pass " + Describe(outbound) + " sni=" + sni.name);
      return queue->Accept(packet.id);
    }
    blocked[outbound] = now + options.remember;
    Log("drop " + Describe(outbound) + " sni=" + sni.name + " (matched " + *target + "), flow blocked " +
        std::to_string(options.remember.count()) + " s");
    queue->Drop(packet.id);
  });
}

}  // namespace lab
