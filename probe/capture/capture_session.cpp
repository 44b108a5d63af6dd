// Capture session. See capture_session.h for the contract.
#include "probe/capture/capture_session.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace vantage::capture {
namespace {

using nlohmann::json;

// Matches no packet; installed before anything is registered so that the
// moment between activation and the first set_targets() reads nothing.
// (No IPv4 packet has version 0; libpcap refuses a filter it can prove empty.)
constexpr const char* kMatchNothing = "ip[0] = 0";

std::string hex32(const uint8_t* b) {
  char text[11];
  std::snprintf(text, sizeof(text), "0x%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
  return text;
}

// "(a or b or c)" / "a" / "" for an empty list.
std::string any_of(const std::vector<std::string>& terms) {
  if (terms.empty()) return "";
  if (terms.size() == 1) return terms.front();
  std::string out = "(";
  for (std::size_t i = 0; i < terms.size(); ++i) out += (i ? " or " : "") + terms[i];
  return out + ")";
}

// The ICMP error's quoted IP header sits 8 bytes into the ICMP message; its
// destination address is at +16 (IPv4) or +24 (IPv6). IPv6 is addressed from
// the outer IPv6 header (fixed 40 bytes; errors with extension headers are
// not matched).
std::string icmp_quoting(const IpAddress& ip) {
  if (ip.version == 4) return "icmp[24:4] = " + hex32(ip.bytes.data());
  std::vector<std::string> words;
  for (int i = 0; i < 4; ++i)
    words.push_back("ip6[" + std::to_string(40 + 8 + 24 + 4 * i) + ":4] = " + hex32(ip.bytes.data() + 4 * i));
  return "(" + words[0] + " and " + words[1] + " and " + words[2] + " and " + words[3] + ")";
}

struct StoredPacket {
  double ts = 0;
  std::string bytes;
};

double timeval_seconds(const struct timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

json result_json(const DetectorResult& r) {
  json anomalies = json::array();
  for (const auto& a : r.anomalies) anomalies.push_back(anomaly_to_json(a));
  return {{"anomalies", anomalies},
          {"flows", r.flows},
          {"malformed", r.stats.malformed},
          {"duplicates", r.stats.duplicates},
          {"ignored", r.stats.ignored}};
}

}  // namespace

std::string build_capture_filter(const std::vector<std::string>& resolvers,
                                 const std::vector<std::string>& targets) {
  std::map<IpAddress, std::set<uint16_t>> udp_hosts, tcp_hosts;
  for (const auto& text : resolvers) {
    IpAddress ip;
    uint16_t port = 0;
    if (parse_address(text, ip, port, 53) && port != 0) udp_hosts[ip].insert(port);
  }
  for (const auto& text : targets) {
    IpAddress ip;
    uint16_t port = 0;
    if (parse_address(text, ip, port, 0) && port != 0) tcp_hosts[ip].insert(port);
  }
  // Hosts with the same ports share one clause: "(ports) and (hosts)" for
  // each set of ports, the same packets as one clause per host. libpcap's
  // optimiser needs memory quadratic in the filter's blocks: one clause per
  // host cost ~4.5 MB for 40 IPv4 hosts and ~18 MB for 40 hosts in each
  // family (peaks of the probe's memory at every filter change); grouped,
  // ~0.3 MB and ~1.2 MB.
  auto flows = [](const char* proto, const std::map<IpAddress, std::set<uint16_t>>& hosts) {
    std::map<std::set<uint16_t>, std::vector<std::string>> by_ports;
    for (const auto& [ip, ports] : hosts)
      by_ports[ports].push_back(std::string(ip.version == 4 ? "ip" : "ip6") + " host " + ip.to_string());
    std::vector<std::string> groups;
    for (const auto& [ports, host_terms] : by_ports) {
      std::vector<std::string> port_terms;
      for (auto p : ports) port_terms.push_back("port " + std::to_string(p));
      groups.push_back("(" + any_of(port_terms) + " and " + any_of(host_terms) + ")");
    }
    return groups.empty() ? std::string() : "(" + std::string(proto) + " and " + any_of(groups) + ")";
  };
  std::vector<std::string> clauses;
  if (auto u = flows("udp", udp_hosts); !u.empty()) clauses.push_back(u);
  if (auto t = flows("tcp", tcp_hosts); !t.empty()) clauses.push_back(t);
  std::set<IpAddress> all;
  for (const auto& [ip, ports] : udp_hosts) all.insert(ip);
  for (const auto& [ip, ports] : tcp_hosts) all.insert(ip);
  std::vector<std::string> v4, v6;
  for (const auto& ip : all) (ip.version == 4 ? v4 : v6).push_back(icmp_quoting(ip));
  if (!v4.empty()) clauses.push_back("(icmp and icmp[0] = 3 and " + any_of(v4) + ")");
  if (!v6.empty()) clauses.push_back("(ip6 and ip6[6] = 58 and ip6[40] = 1 and " + any_of(v6) + ")");
  return clauses.empty() ? "" : any_of(clauses);
}

json capture_disabled_json(const std::string& reason) { return {{"enabled", false}, {"reason", reason}}; }

struct CaptureSession::Impl {
  CaptureOptions options;
  pcap_t* handle = nullptr;
  pcap_dumper_t* dumper = nullptr;
  int link_type = 0;
  std::chrono::system_clock::time_point origin;
  double origin_seconds = 0;
  std::thread thread;

  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  bool stop = false;
  bool reading = true;  // false once the capture thread has given up
  std::string pending_filter;
  uint64_t filter_generation = 0, applied_generation = 0;
  std::string error;
  FlowRegistry registry;
  std::set<std::string> resolver_set, target_set;

  // Only the capture thread touches these until it is joined.
  std::vector<StoredPacket> packets;
  std::size_t stored_bytes = 0;
  uint64_t over_limit = 0;
  uint64_t seen = 0;

  bool finished = false;
  json result;

  // When the capture thread last got a packet (steady clock), for finish().
  std::atomic<std::chrono::steady_clock::rep> last_packet{0};

  static void on_packet(u_char* user, const struct pcap_pkthdr* h, const u_char* bytes) {
    auto* self = reinterpret_cast<Impl*>(user);
    ++self->seen;
    self->last_packet.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    if (self->dumper) pcap_dump(reinterpret_cast<u_char*>(self->dumper), h, bytes);
    if (self->stored_bytes + h->caplen > self->options.max_stored_bytes) {
      ++self->over_limit;
      return;
    }
    self->stored_bytes += h->caplen;
    self->packets.push_back({timeval_seconds(h->ts), std::string(reinterpret_cast<const char*>(bytes), h->caplen)});
  }

  // Installs a filter; called by the capture thread (or before it starts).
  bool apply_filter(const std::string& text, std::string& why) {
    struct bpf_program program;
    if (pcap_compile(handle, &program, text.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      why = std::string("filter_error: ") + pcap_geterr(handle);
      return false;
    }
    const int rc = pcap_setfilter(handle, &program);
    pcap_freecode(&program);
    if (rc != 0) {
      why = std::string("filter_error: ") + pcap_geterr(handle);
      return false;
    }
    return true;
  }

  void run() {
    while (true) {
      {
        std::unique_lock lock(mu);
        if (stop) break;
        if (applied_generation != filter_generation) {
          std::string why;
          if (!apply_filter(pending_filter, why)) error = why;
          applied_generation = filter_generation;
          cv.notify_all();
        }
      }
      const int n = pcap_dispatch(handle, -1, &Impl::on_packet, reinterpret_cast<u_char*>(this));
      if (n == PCAP_ERROR) {
        std::lock_guard lock(mu);
        error = std::string("capture_error: ") + pcap_geterr(handle);
        reading = false;
        applied_generation = filter_generation;
        cv.notify_all();
        return;
      }
    }
    // Drain what the kernel already holds: the run's last packets.
    char err[PCAP_ERRBUF_SIZE];
    if (pcap_setnonblock(handle, 1, err) == 0) {
      for (int rounds = 0; rounds < 1000; ++rounds)
        if (pcap_dispatch(handle, -1, &Impl::on_packet, reinterpret_cast<u_char*>(this)) <= 0) break;
    }
  }

  void stop_thread() {
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    if (thread.joinable()) {
      pcap_breakloop(handle);
      thread.join();
    }
  }

  ~Impl() {
    stop_thread();
    if (dumper) pcap_dump_close(dumper);
    if (handle) pcap_close(handle);
  }
};

CaptureSession::CaptureSession() : impl_(std::make_unique<Impl>()) {}
CaptureSession::~CaptureSession() = default;

std::unique_ptr<CaptureSession> CaptureSession::open(const CaptureOptions& options, std::string& reason) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* handle = pcap_create(options.interface.c_str(), err);
  if (handle == nullptr) {
    reason = std::string("unknown_failure: ") + err;
    return nullptr;
  }
  pcap_set_snaplen(handle, std::max(options.snaplen, 96));
  pcap_set_promisc(handle, 0);
  pcap_set_immediate_mode(handle, 1);
  pcap_set_timeout(handle, 100);
  pcap_set_buffer_size(handle, options.buffer_bytes);
  const int rc = pcap_activate(handle);
  if (rc < 0) {
    if (rc == PCAP_ERROR_PERM_DENIED)
      reason = "permission_denied: capture needs CAP_NET_RAW (run as root or setcap cap_net_raw)";
    else if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
      reason = "no_such_device: " + options.interface;
    else
      reason = std::string("unknown_failure: ") + pcap_statustostr(rc) + ": " + pcap_geterr(handle);
    pcap_close(handle);
    return nullptr;
  }
  std::unique_ptr<CaptureSession> session(new CaptureSession());
  auto& impl = *session->impl_;
  impl.options = options;
  impl.handle = handle;
  impl.link_type = pcap_datalink(handle);
  if (!link::supported(impl.link_type)) {
    reason = "unsupported_link_type: " + std::to_string(impl.link_type);
    return nullptr;
  }
  std::string why;
  if (!impl.apply_filter(kMatchNothing, why)) {
    reason = why;
    return nullptr;
  }
  if (!options.pcap_file.empty()) {
    const int fd = ::open(options.pcap_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE* file = fd >= 0 && fchmod(fd, 0600) == 0 ? fdopen(fd, "wb") : nullptr;
    if (file != nullptr) impl.dumper = pcap_dump_fopen(handle, file);
    if (impl.dumper == nullptr) {
      impl.error = "pcap_file_error: cannot write " + options.pcap_file;
      if (file) std::fclose(file);
      else if (fd >= 0) ::close(fd);
    }
  }
  impl.origin = std::chrono::system_clock::now();
  impl.origin_seconds = std::chrono::duration<double>(impl.origin.time_since_epoch()).count();
  impl.thread = std::thread([&impl] { impl.run(); });
  return session;
}

void CaptureSession::set_targets(const std::vector<std::string>& resolvers,
                                 const std::vector<std::string>& targets) {
  auto& impl = *impl_;
  std::unique_lock lock(impl.mu);
  if (impl.finished) return;
  // Addresses are added, never removed: a flow still in progress keeps being
  // captured, and packets read earlier keep being analysed.
  for (const auto& r : resolvers)
    if (impl.resolver_set.insert(r).second) impl.registry.resolvers.push_back(r);
  for (const auto& t : targets)
    if (impl.target_set.insert(t).second) impl.registry.targets.push_back(t);
  if (!impl.reading) return;  // the thread is gone: nothing would install the filter
  const std::string filter = build_capture_filter(impl.registry.resolvers, impl.registry.targets);
  impl.pending_filter = filter.empty() ? kMatchNothing : filter;
  const uint64_t generation = ++impl.filter_generation;
  lock.unlock();
  pcap_breakloop(impl.handle);
  lock.lock();
  impl.cv.wait_for(lock, std::chrono::seconds(2), [&] { return impl.applied_generation >= generation; });
}

void CaptureSession::map_endpoint(const std::string& dst_ip_port, const std::string& endpoint) {
  std::lock_guard lock(impl_->mu);
  auto& list = impl_->registry.address_endpoints[dst_ip_port];
  if (std::find(list.begin(), list.end(), endpoint) == list.end()) list.push_back(endpoint);
}

void CaptureSession::map_qname(const std::string& qname, const std::string& endpoint) {
  std::lock_guard lock(impl_->mu);
  auto& list = impl_->registry.qname_endpoints[qname];
  if (std::find(list.begin(), list.end(), endpoint) == list.end()) list.push_back(endpoint);
}

void CaptureSession::mark_silent_resolver(const std::string& ip_port) {
  std::lock_guard lock(impl_->mu);
  impl_->registry.silent_resolvers.push_back(ip_port);
}

std::chrono::system_clock::time_point CaptureSession::origin() const { return impl_->origin; }

std::string CaptureSession::last_error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->error;
}

json CaptureSession::finish(double run_start_offset) {
  auto& impl = *impl_;
  if (impl.finished) return impl.result;
  {
    using std::chrono::steady_clock;
    const auto grace = std::chrono::milliseconds(std::max(impl.options.finish_grace_ms, 0));
    const auto quiet = std::min(grace, std::chrono::milliseconds(std::max(impl.options.finish_quiet_ms, 0)));
    const auto begun = steady_clock::now();
    for (;;) {
      const auto now = steady_clock::now();
      const auto last = steady_clock::time_point(steady_clock::duration(impl.last_packet.load(std::memory_order_relaxed)));
      if (now - begun >= grace || (now - begun >= quiet && now - last >= quiet)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  impl.stop_thread();
  uint64_t dropped = impl.over_limit;
  struct pcap_stat stats {};
  if (pcap_stats(impl.handle, &stats) == 0) dropped += stats.ps_drop + stats.ps_ifdrop;
  if (impl.dumper) {
    pcap_dump_close(impl.dumper);
    impl.dumper = nullptr;
  }
  const double end_ts = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

  FlowRegistry registry;
  {
    std::lock_guard lock(impl.mu);
    impl.finished = true;
    registry = impl.registry;
  }
  DetectorOptions detector_options;
  detector_options.time_origin = impl.origin_seconds + run_start_offset;
  CaptureAnalyzer tracker(std::move(registry), detector_options);
  std::stable_sort(impl.packets.begin(), impl.packets.end(),
                   [](const StoredPacket& a, const StoredPacket& b) { return a.ts < b.ts; });
  for (const auto& p : impl.packets)
    tracker.add_frame(impl.link_type, reinterpret_cast<const uint8_t*>(p.bytes.data()), p.bytes.size(), p.ts);
  const auto detected = tracker.finish(end_ts);

  json out = {{"enabled", true},
              {"interface", impl.options.interface},
              {"link_type", link::name(impl.link_type)},
              {"packets", impl.seen},
              {"dropped", dropped}};
  out.update(result_json(detected));
  if (!impl.error.empty()) out["error"] = impl.error;
  impl.packets.clear();
  impl.packets.shrink_to_fit();
  impl.result = out;
  return out;
}

json analyze_pcap_file(const std::string& path, const AnalysisOptions& options) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* handle = pcap_open_offline(path.c_str(), err);
  if (handle == nullptr) return capture_disabled_json(std::string("unknown_failure: ") + err);
  const int link_type = pcap_datalink(handle);
  if (!link::supported(link_type)) {
    pcap_close(handle);
    return capture_disabled_json("unsupported_link_type: " + std::to_string(link_type));
  }
  std::unique_ptr<CaptureAnalyzer> tracker;
  uint64_t packets = 0;
  struct pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int rc;
  while ((rc = pcap_next_ex(handle, &header, &data)) == 1) {
    const double ts = timeval_seconds(header->ts);
    if (!tracker) {
      DetectorOptions detector_options = options.detectors;
      if (detector_options.time_origin == 0) detector_options.time_origin = ts;
      tracker = std::make_unique<CaptureAnalyzer>(options.registry, detector_options);
    }
    ++packets;
    tracker->add_frame(link_type, data, header->caplen, ts);
  }
  std::string read_error = rc == PCAP_ERROR ? pcap_geterr(handle) : "";
  pcap_close(handle);
  if (!tracker) tracker = std::make_unique<CaptureAnalyzer>(options.registry, options.detectors);
  json out = {{"enabled", true}, {"interface", "savefile"}, {"link_type", link::name(link_type)},
              {"packets", packets}, {"dropped", 0}};
  out.update(result_json(tracker->finish()));
  if (!read_error.empty()) out["error"] = "truncated_savefile: " + read_error;
  return out;
}

}  // namespace vantage::capture
