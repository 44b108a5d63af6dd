// Writes the fuzz seed corpus (small files) from the test packet builder:
//   make_corpus DIR   →  DIR/decoder/*, DIR/detectors/*
// Built with the fuzz targets; its output is committed under fuzz/corpus/.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "probe/capture/packet_decoder.h"
#include "probe/capture/tests/packet_builder.h"

namespace tb = vantage::capture::testing;
namespace fs = std::filesystem;

namespace {
void write(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}
std::string frame(char selector, const std::string& bytes) { return std::string(1, selector) + bytes; }
// Detector input: u16 length, u16 step, packet.
std::string seq(const std::vector<std::pair<int, std::string>>& packets, bool registered) {
  std::string out(1, registered ? '\x01' : '\x00');
  for (const auto& [step, p] : packets) {
    out.push_back(static_cast<char>(p.size() >> 8));
    out.push_back(static_cast<char>(p.size() & 0xff));
    out.push_back(static_cast<char>(step >> 8));
    out.push_back(static_cast<char>(step & 0xff));
    out += p;
  }
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  const fs::path dir = argc > 1 ? argv[1] : "corpus";
  fs::create_directories(dir / "decoder");
  fs::create_directories(dir / "detectors");
  tb::TcpConversation c;
  const auto syn = c.syn();
  const auto synack = c.synack(0);
  const auto ack = c.ack();
  const auto hello = c.client_data(tb::client_hello("chat.signal.org"));
  const auto data = c.server_data(std::string(64, 'd'), 900);
  const auto rst = c.server_flags(0x04, 31337, 118);
  const auto query = tb::ipv4("198.18.0.2", "198.18.0.53", 17, tb::udp(5353, 53, tb::dns_query(7, "example.com")));
  const auto forged = tb::ipv4("198.18.0.53", "198.18.0.2", 17, tb::udp(53, 5353, tb::dns_response(7, "example.com", {"198.18.66.6"})), 47);
  const auto real = tb::ipv4("198.18.0.53", "198.18.0.2", 17, tb::udp(53, 5353, tb::dns_response(7, "example.com", {"198.18.1.10"})), 58);
  const auto icmp = tb::ipv4("198.18.9.1", "198.18.0.2", 1, tb::icmp(3, 13, syn.substr(0, 28)), 250);
  const auto v6 = tb::ipv6("2001:db8::2", "2001:db8::443", 6, tb::tcp(40000, 443, 1, 0, 0x02));
  const auto icmp6 = tb::ipv6("2001:db8::1", "2001:db8::2", 58, tb::icmp(1, 1, v6));

  // Decoder seeds: selector byte (index into the fuzzer's link table) + frame.
  write(dir / "decoder" / "eth_tcp_hello", frame(0, tb::ethernet(hello)));
  write(dir / "decoder" / "eth_vlan_dns", frame(0, tb::ethernet(real, true)));
  write(dir / "decoder" / "sll_icmp", frame(1, tb::linux_sll(icmp)));
  write(dir / "decoder" / "sll2_ipv6", frame(2, tb::linux_sll2(v6)));
  write(dir / "decoder" / "raw_alert", frame(3, c.server_data(tb::tls_alert(2, 40), 1)));
  write(dir / "decoder" / "null_dns_query", frame(4, tb::bsd_null(query)));
  write(dir / "decoder" / "raw_icmp6", frame(7, icmp6));
  write(dir / "decoder" / "raw_http", frame(3, c.server_data("HTTP/1.1 403 Forbidden\r\n\r\n", 2)));

  // Detector seeds: whole scenarios.
  write(dir / "detectors" / "rst_injected", seq({{0, syn}, {500, synack}, {2, ack}, {10, hello}, {20, rst}, {400, data}}, true));
  write(dir / "detectors" / "syn_blackhole", seq({{0, syn}, {10000, syn}, {20000, syn}}, true));
  write(dir / "detectors" / "dns_injection", seq({{0, query}, {50, forged}, {350, real}}, true));
  write(dir / "detectors" / "icmp", seq({{0, syn}, {200, icmp}, {10000, syn}}, false));
  write(dir / "detectors" / "clean", seq({{0, syn}, {500, synack}, {2, ack}, {10, hello}, {500, data}}, false));
  return 0;
}
