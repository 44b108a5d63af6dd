// TcpDataAfterRst: emits AnomalyKind::tcp_data_after_rst.
// Rule: server payload at or beyond an inbound RST's sequence number,
// arriving after that RST: the RST was not the server's (a reordered segment
// below it is not data after it).
#pragma once

#include "probe/capture/detectors/detector.h"

namespace vantage::capture {

class TcpDataAfterRst final : public Detector {
 public:
  static constexpr AnomalyKind kKind = AnomalyKind::tcp_data_after_rst;
  AnomalyKind kind() const override { return kKind; }
  void on_inbound_payload(const FlowTracker& tracker, const TcpFlow& f, const DecodedPacket& p, double ts,
                          AnomalySink& out) override;
  void finish_flow(const FlowTracker& tracker, const TcpFlow& f, double end_ts, AnomalySink& out) override;

 private:
  struct Found {
    double t = 0;
    nlohmann::json evidence;
  };
  std::map<std::size_t, Found> found_;  // flow order → the first data after a RST
};

}  // namespace vantage::capture
