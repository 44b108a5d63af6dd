// Capture session: one libpcap handle per run, BPF-filtered to the probe's
// own flows, read by its own thread; at the end, the decoders and detectors
// turn what it read into test_keys.x_capture.
//
// Contract:
//  - open() never aborts the run: without the privilege (CAP_NET_RAW) or the
//    interface it returns nullptr and a reason, and the caller records
//    capture_disabled_json(reason);
//  - until set_targets() is called the filter matches nothing; afterwards it
//    matches only UDP/TCP to or from the registered "ip:port" pairs and ICMP
//    errors quoting a packet sent to one of them. Nothing else is read.
//  - the x_capture JSON contains no MAC address and no address but those of
//    the registered flows and the probe's own (the caller scrubs the latter);
//  - a raw pcap is written only when CaptureOptions::pcap_file is set, with
//    mode 0600, and is never uploaded by anything in this module.
//
// Time: open() records the wall-clock time of its call (`origin()`); packet
// timestamps (wall clock, from the kernel) are reported as
//     t = packet_time - origin() - run_start_offset
// where run_start_offset (the argument of finish()) is how many seconds after
// open() the run's clock started (negative if it started before). So "t" is
// seconds since the run's start, the same origin as the observations' t0/t.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "probe/capture/detectors.h"

namespace vantage::capture {

struct CaptureOptions {
  std::string interface = "any";
  std::string pcap_file;  // "" = none; written with mode 0600
  int snaplen = 512;
  int buffer_bytes = 4 << 20;              // kernel ring buffer
  std::size_t max_stored_bytes = 64 << 20; // packets kept for analysis; beyond: counted as dropped
  // finish() keeps reading before it stops: on loopback and under load the
  // kernel may hand over a packet sent just before finish() a few
  // milliseconds later (softirq deferred to ksoftirqd). It stops once no
  // packet has come for finish_quiet_ms (and at least that long has
  // passed), and after finish_grace_ms at the most: a clean run's traffic
  // has ended by then, and a flow still sending (a retransmitting
  // black-hole, a policer) gets the whole grace.
  int finish_grace_ms = 200;
  int finish_quiet_ms = 50;
};

class CaptureSession {
 public:
  // nullptr + reason when capture is impossible (no privilege, no such interface...).
  static std::unique_ptr<CaptureSession> open(const CaptureOptions&, std::string& reason);
  ~CaptureSession();
  CaptureSession(const CaptureSession&) = delete;
  CaptureSession& operator=(const CaptureSession&) = delete;

  // Restrict the BPF filter to these flows (call before measuring, and again
  // when new addresses are known); resolvers "ip:53"; targets "ip:port".
  // Nothing else is captured. Addresses accumulate over calls (a flow in
  // progress is never dropped from the filter). Returns once the capture
  // thread has installed the filter (or after 2 s).
  void set_targets(const std::vector<std::string>& resolvers, const std::vector<std::string>& targets);
  // Which endpoint key(s) a destination "ip:port" (and for DNS, a qname)
  // belongs to, so anomalies name the right endpoint. May be called from any
  // thread, any number of times per address.
  void map_endpoint(const std::string& dst_ip_port, const std::string& endpoint);
  void map_qname(const std::string& qname, const std::string& endpoint);
  // Declares a resolver address that runs no DNS server (any answer from it
  // is forged).
  void mark_silent_resolver(const std::string& ip_port);

  // Stops the capture thread, runs the detectors, returns the x_capture JSON.
  nlohmann::json finish(double run_start_offset);

  std::chrono::system_clock::time_point origin() const;
  // Last filter or capture error ("" if none); also reported in x_capture.
  std::string last_error() const;

 private:
  CaptureSession();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The BPF filter text for these flows ("" → match nothing). Exposed for tests.
std::string build_capture_filter(const std::vector<std::string>& resolvers,
                                 const std::vector<std::string>& targets);

// x_capture for a run without capture.
nlohmann::json capture_disabled_json(const std::string& reason);

struct AnalysisOptions {
  FlowRegistry registry;      // empty: every flow in the file is analysed
  DetectorOptions detectors;  // time_origin 0 → the first packet's time
};

// Runs the decoders and detectors on a saved pcap; returns x_capture-shaped
// JSON ({"enabled": false, "reason": ...} when the file cannot be read).
nlohmann::json analyze_pcap_file(const std::string& path, const AnalysisOptions& options = {});

}  // namespace vantage::capture
