// Decode+detect throughput: synthesizes a capture (or takes a recorded one),
// runs analyze_pcap_file on it and prints packets/s and peak RSS. A program
// to run on demand, not a test: it asserts nothing about time.
//
//   capture_bench                 # 200k synthetic packets (TLS flows + DNS)
//   capture_bench --packets N
//   capture_bench FILE.pcap       # a recorded capture
#include <pcap/pcap.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "probe/capture/capture_session.h"
#include "probe/capture/tests/packet_builder.h"

namespace tb = vantage::capture::testing;

namespace {

// Writes about `target` packets: TLS-like flows of ~50 packets (a few
// with a lost segment and a retransmission) and DNS exchanges, snaplen 512.
void synthesize(const std::string& path, long target) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 512);
  pcap_dumper_t* dumper = pcap_dump_open(dead, path.c_str());
  if (!dumper) {
    std::fprintf(stderr, "cannot write %s: %s\n", path.c_str(), pcap_geterr(dead));
    std::exit(1);
  }
  long written = 0;
  double t = 1700000000.0;
  auto put = [&](const std::string& ip) {
    const auto frame = tb::ethernet(ip);
    struct pcap_pkthdr h {};
    t += 0.00005;
    h.ts.tv_sec = static_cast<long>(t);
    h.ts.tv_usec = static_cast<long>((t - h.ts.tv_sec) * 1e6);
    h.len = static_cast<bpf_u_int32>(frame.size());
    h.caplen = std::min<bpf_u_int32>(h.len, 512);
    pcap_dump(reinterpret_cast<u_char*>(dumper), &h, reinterpret_cast<const u_char*>(frame.data()));
    ++written;
  };
  const std::string segment(1400, 'd');
  for (int flow = 0; written < target; ++flow) {
    tb::TcpConversation c;
    c.client_port = static_cast<uint16_t>(20000 + flow % 40000);
    c.server = "198.18." + std::to_string(1 + flow / 250 % 250) + "." + std::to_string(1 + flow % 250);
    const uint16_t q = static_cast<uint16_t>(flow);
    const std::string name = "e" + std::to_string(flow % 16) + ".whatsapp.net";
    put(tb::ipv4("198.18.0.2", "198.18.0.53", 17, tb::udp(static_cast<uint16_t>(30000 + flow % 20000), 53, tb::dns_query(q, name))));
    put(tb::ipv4("198.18.0.53", "198.18.0.2", 17,
                 tb::udp(53, static_cast<uint16_t>(30000 + flow % 20000), tb::dns_response(q, name, {c.server})), 58));
    put(c.syn());
    put(c.synack(0));
    put(c.ack());
    put(c.client_data(tb::client_hello(name)));
    uint16_t id = static_cast<uint16_t>(flow * 7);
    uint32_t lost = 0;
    for (int i = 0; i < 40; ++i) {
      if (flow % 10 == 0 && i == 5) {
        lost = c.server_seq;
        c.server_seq += 1400;
        continue;
      }
      put(c.server_data(segment, id++));
      if (i % 2) put(c.ack());
    }
    if (lost) put(c.server_data_at(lost, segment, id++));
    put(c.client_flags(0x11));
    put(c.server_flags(0x11, id++));
  }
  pcap_dump_close(dumper);
  pcap_close(dead);
}

}  // namespace

int main(int argc, char** argv) {
  long packets = 200000;
  std::string path;
  bool synthetic = true;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--packets" && i + 1 < argc) packets = std::atol(argv[++i]);
    else {
      path = arg;
      synthetic = false;
    }
  }
  if (synthetic) {
    path = (std::filesystem::temp_directory_path() / ("capture_bench_" + std::to_string(getpid()) + ".pcap")).string();
    synthesize(path, packets);
  }
  const auto start = std::chrono::steady_clock::now();
  const auto result = vantage::capture::analyze_pcap_file(path);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (synthetic) std::filesystem::remove(path);
  if (result.value("enabled", false) == false) {
    std::fprintf(stderr, "cannot analyse %s: %s\n", path.c_str(), result.value("reason", "").c_str());
    return 1;
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  const double n = result["packets"].get<double>();
  std::printf("capture_bench: %s\n", synthetic ? "synthetic capture" : path.c_str());
  std::printf("packets          %.0f\n", n);
  std::printf("flows            %zu\n", result["flows"].size());
  std::printf("anomalies        %zu\n", result["anomalies"].size());
  std::printf("seconds          %.3f\n", seconds);
  std::printf("packets_per_s    %.0f\n", n / seconds);
  std::printf("peak_rss_mb      %.1f\n", usage.ru_maxrss / 1024.0);
  return 0;
}
